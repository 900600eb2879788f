"""Checking what a participant hands in before anything is stored: size, archive safety, image references.

``check_input`` is the one check that the submit form, the API and a
completed chunked upload all run. Archives are checked by
``evaluator.archives``, the same code the worker unpacks them with: a
predictions zip within the benchmark's output limits, an image tarball
within ``TOONBENCH_MAX_IMAGE_MB`` (or the benchmark's ``limits.image_mb``)
once decompressed. How big a request body may be at all is the upload
cap's business (``uploads.size_cap``), checked before the body is read.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Iterator

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from benchmarks.models import Benchmark
from evaluator.archives import EXTRA_ARCHIVE_MEMBERS, MEGABYTE, ArchiveError, ArchiveLimits, extract_predictions
from evaluator.tarballs import TarLimits
from evaluator.tarballs import check_image_tarball as check_tarball_members
from submissions.models import Kind

IMAGE_REFERENCE = re.compile(
    r"^(?:[a-z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$"
)


class UploadRejected(ValueError):
    """The input cannot be accepted; the message says what to change, ``field`` which field it is about."""

    def __init__(self, message: str, field: str = "artefact") -> None:
        super().__init__(message)
        self.field = field


def check_input(
    kind: str, benchmark: Benchmark, image_ref: str = "", artefact: UploadedFile | None = None
) -> tuple[str, UploadedFile | None]:
    """The image reference and artefact a ``kind`` submission hands in, checked; what the kind does not use is dropped.

    Raises ``UploadRejected`` naming the field at fault.
    """
    if kind == Kind.IMAGE:
        return check_image_reference(image_ref), None
    check_artefact(kind, artefact, benchmark)
    return "", artefact


@contextmanager
def local_copy(uploaded: UploadedFile) -> Iterator[Path]:
    """A path to the uploaded bytes: the temporary file Django wrote, or a copy of a small in-memory one."""
    temporary_path = getattr(uploaded, "temporary_file_path", None)
    if temporary_path is not None:
        yield Path(temporary_path())
        return
    suffix = "".join(PurePosixPath(uploaded.name or "upload").suffixes[-2:])[:16]
    with tempfile.NamedTemporaryFile(suffix=suffix) as copy:
        uploaded.seek(0)
        shutil.copyfileobj(uploaded, copy)
        copy.flush()
        uploaded.seek(0)
        yield Path(copy.name)


def check_upload_size(uploaded: UploadedFile, benchmark: Benchmark) -> None:
    limit = benchmark.typed_spec.limits.upload_mb * MEGABYTE
    if uploaded.size is not None and uploaded.size > limit:
        raise UploadRejected(
            f"{uploaded.name}: {uploaded.size / MEGABYTE:.1f} MB, over {benchmark.slug}'s upload limit of "
            f"{limit / MEGABYTE:.0f} MB (limits.upload_mb)"
        )


def predictions_limits(benchmark: Benchmark) -> ArchiveLimits:
    protocol = benchmark.current_version()
    expected_files = protocol.test_items if protocol is not None else 0
    return ArchiveLimits(
        max_files=expected_files + EXTRA_ARCHIVE_MEMBERS,
        max_bytes=benchmark.typed_spec.limits.output_mb * MEGABYTE,
    )


def check_predictions_archive(uploaded: UploadedFile, benchmark: Benchmark) -> None:
    """Unpack into a scratch folder with the evaluator's own safe unzip (traversal, links, bombs, size)."""
    check_upload_size(uploaded, benchmark)
    with local_copy(uploaded) as path, tempfile.TemporaryDirectory(prefix="toonbench-check-") as scratch:
        try:
            extract_predictions(path, Path(scratch), predictions_limits(benchmark))
        except ArchiveError as exc:
            raise UploadRejected(str(exc).replace(path.name, uploaded.name or "upload", 1)) from None


def image_limits() -> TarLimits:
    """The most an image tarball may unpack to: the site's ``TOONBENCH_MAX_IMAGE_MB``."""
    return TarLimits(max_bytes=int(settings.TOONBENCH_MAX_IMAGE_MB) * MEGABYTE)


def check_image_tarball(uploaded: UploadedFile, benchmark: Benchmark) -> None:
    """A ``docker save`` archive: a tar (gzip, bzip2, xz or plain) within the image limits, with ``manifest.json``."""
    check_upload_size(uploaded, benchmark)
    name = uploaded.name or "upload"
    with local_copy(uploaded) as path:
        try:
            names = check_tarball_members(path, image_limits(), name)
        except ArchiveError as exc:
            raise UploadRejected(str(exc)) from None
    if "manifest.json" not in names:
        raise UploadRejected(f"{name}: no manifest.json at the top level; expected the output of `docker save IMAGE`")


def check_image_reference(reference: str) -> str:
    reference = reference.strip()
    if not IMAGE_REFERENCE.match(reference):
        raise UploadRejected(
            f"{reference!r} is not a container image reference; expected e.g. registry.example.org/team/model:1.0",
            field="image_ref",
        )
    return reference


def check_artefact(kind: str, uploaded: UploadedFile | None, benchmark: Benchmark) -> None:
    """Validate an uploaded artefact for its kind; raises ``UploadRejected``."""
    if uploaded is None:
        raise UploadRejected(f"a {kind} submission needs an uploaded file")
    if kind == Kind.PREDICTIONS:
        check_predictions_archive(uploaded, benchmark)
    elif kind == Kind.TARBALL:
        check_image_tarball(uploaded, benchmark)

