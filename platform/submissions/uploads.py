"""Checking uploads before anything is stored: size, archive safety, image references.

Big files never sit in memory: Django's upload handlers spill them to a
temporary file (``FILE_UPLOAD_MAX_MEMORY_SIZE``), and ``SizeCapUploadHandler``
stops reading once a request carries more than the largest allowed upload.
A request that announces too many bytes in ``Content-Length``, or more than
the disk that stores artefacts has room for, is refused before its body is
read at all. Archives are checked by
``evaluator.archives``, the same code the worker unpacks them with: a
predictions zip within the benchmark's output limits, an image tarball
within ``TOONBENCH_MAX_IMAGE_MB`` (or the benchmark's ``limits.image_mb``)
once decompressed.
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
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest

from benchmarks.models import Benchmark
from datasets.spec_models import Limits
from evaluator.archives import EXTRA_ARCHIVE_MEMBERS, MEGABYTE, ArchiveError, ArchiveLimits, extract_predictions
from evaluator.tarballs import TarLimits
from evaluator.tarballs import check_image_tarball as check_tarball_members
from submissions.upload_ledger import INSUFFICIENT_STORAGE, StorageRefused, check_one_shot

# Room for the form fields and multipart boundaries around the file itself.
FORM_OVERHEAD_BYTES = 64 * 1024
IMAGE_REFERENCE = re.compile(
    r"^(?:[a-z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$"
)


class UploadRejected(ValueError):
    """The upload cannot be accepted; the message says what to change."""


def upload_limit_mb(benchmark: Benchmark) -> int:
    return benchmark.typed_spec.limits.upload_mb


def largest_upload_bytes() -> int:
    """The biggest upload any active benchmark accepts, plus the form around it."""
    limits = [upload_limit_mb(benchmark) for benchmark in Benchmark.objects.filter(is_active=True).only("spec")]
    return max(limits or [Limits().upload_mb]) * MEGABYTE + FORM_OVERHEAD_BYTES


def announced_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def too_large_message(size_bytes: int, limit_bytes: int) -> str:
    return (
        f"the upload is {size_bytes / MEGABYTE:.1f} MB, over the limit of {limit_bytes / MEGABYTE:.0f} MB; "
        "submit a container image reference instead, or make the archive smaller"
    )


class SizeCapUploadHandler(FileUploadHandler):
    """Stops a multipart upload once its files pass ``max_bytes`` and marks the request.

    Placed first among the request's upload handlers; the request then has
    ``upload_rejected`` set to a message the view shows.
    """

    def __init__(self, request: HttpRequest, max_bytes: int) -> None:
        super().__init__(request)
        self.max_bytes = max_bytes
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.max_bytes:
            self.request.upload_rejected = too_large_message(self.received, self.max_bytes)  # type: ignore[union-attr]
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def install_size_cap(request: HttpRequest) -> str:
    """Cap the request's upload before its body is read; returns a refusal message ('' when fine).

    A body the disk has no room for (``upload_ledger.check_one_shot``) is refused too, and
    ``refusal_status`` then answers 507 instead of 413.
    """
    limit = largest_upload_bytes()
    if announced_length(request) > limit:
        return too_large_message(announced_length(request), limit)
    try:
        check_one_shot(announced_length(request))
    except StorageRefused as exc:
        request.upload_refusal_status = INSUFFICIENT_STORAGE  # type: ignore[attr-defined]
        return str(exc)
    request.upload_handlers.insert(0, SizeCapUploadHandler(request, limit))
    return ""


def refusal_status(request: HttpRequest) -> int:
    """The HTTP status for ``install_size_cap``'s refusal: 507 when the disk is short, else 413."""
    return getattr(request, "upload_refusal_status", 413)


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
    limit = upload_limit_mb(benchmark) * MEGABYTE
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
            f"{reference!r} is not a container image reference; expected e.g. registry.example.org/team/model:1.0"
        )
    return reference


def check_artefact(kind: str, uploaded: UploadedFile | None, benchmark: Benchmark) -> None:
    """Validate an uploaded artefact for its kind; raises ``UploadRejected``."""
    if uploaded is None:
        raise UploadRejected(f"a {kind} submission needs an uploaded file")
    if kind == "predictions":
        check_predictions_archive(uploaded, benchmark)
    elif kind == "tarball":
        check_image_tarball(uploaded, benchmark)

