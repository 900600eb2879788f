"""Benchmarks a host uploads: a spec plus its data (a zip archive, or a folder already under the data root).

``create_uploaded`` checks the spec exactly as ``python -m evaluator validate``
does (same messages), refuses a slug the repository or the site already has,
unpacks the archive (zip or tar) safely into ``<data root>/uploaded/<slug>``
(``benchmarks.data_archives``: member count, total size, ratio, unsafe
names, links, devices), writes the spec, its ``dataset.root`` pointed at the data, into the
extra specs folder (``datasets.spec.extra_specs_dir``) where the worker's
``load_spec`` finds it, and queues the build. The benchmark stays inactive,
unseen by participants, until a host publishes it (``publish``). Every
refusal is a ``HostedRefused`` in one line, and leaves nothing behind.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction

from benchmarks.models import Benchmark, BuildState, Origin
from benchmarks.sync import spec_document
from datasets.spec import extra_specs_dir, is_bundled, validation_lines
from benchmarks.data_archives import unpack_data_archive
from benchmarks.tasks import build_uploaded_benchmark
from evaluator.archives import ArchiveError, ArchiveLimits
from evaluator.specs import load_spec
from organisers.hosts import is_host
from organisers.models import BenchmarkHost, HostRole

UPLOADED_FOLDER = "uploaded"
MEGABYTE = 1024 * 1024


class HostedRefused(ValueError):
    """An upload that cannot be accepted; the message says why in one line."""


def can_create(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether ``user`` may upload a new benchmark (the site's staff)."""
    return bool(user.is_authenticated and user.is_staff)


def can_host(user: AbstractBaseUser | AnonymousUser, benchmark: Benchmark) -> bool:
    """Whether ``user`` may watch and publish ``benchmark``: its hosts (the uploader is its owner)."""
    return is_host(user, benchmark)


def archive_limits() -> ArchiveLimits:
    """The caps on an uploaded data archive (``TOONBENCH_DATA_ARCHIVE_*`` settings)."""
    return ArchiveLimits(
        max_files=settings.TOONBENCH_DATA_ARCHIVE_MAX_FILES,
        max_bytes=int(settings.TOONBENCH_DATA_ARCHIVE_MAX_MB * MEGABYTE),
    )


def read_spec_document(text: bytes | str) -> dict[str, Any]:
    """The uploaded YAML as a mapping with a slug, or a one-line refusal."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise HostedRefused(f"spec: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(document, dict):
        raise HostedRefused("spec: expected a mapping at the top level")
    slug = document.get("slug")
    if not isinstance(slug, str) or not slug:
        raise HostedRefused("spec: slug: expected a benchmark slug")
    return document


def check_slug_free(slug: str) -> None:
    """Refuse a slug the repository's specs or the site's benchmarks already use."""
    if is_bundled(slug):
        raise HostedRefused(f"spec: slug: {slug!r} is a repository benchmark; choose another slug")
    if Benchmark.objects.filter(slug=slug).exists():
        raise HostedRefused(f"spec: slug: a benchmark {slug!r} already exists; choose another slug")


def validated_spec_text(document: dict[str, Any], data_root: Path) -> str:
    """The spec pointed at ``data_root``, checked as ``python -m evaluator validate`` checks it."""
    pointed = {**document, "dataset": {**(document.get("dataset") or {}), "root": str(data_root)}}
    text = yaml.safe_dump(pointed, sort_keys=False, allow_unicode=True)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / f"{document['slug']}.yaml"
        path.write_text(text)
        lines, passed = validation_lines([path], load_spec)
    if not passed:
        raise HostedRefused("spec: " + lines[0].replace(f"{path}: ", "", 1))
    return text


def data_folder_under_root(name: str, data_root: Path) -> Path:
    """A named data folder, which must be an existing folder inside the data root."""
    root = data_root.resolve()
    folder = (root / name).resolve()
    if not folder.is_relative_to(root) or folder == root:
        raise HostedRefused(f"data_folder: {name!r} is outside the data root; name a folder under it")
    if not folder.is_dir():
        raise HostedRefused(f"data_folder: {name!r} is not a folder under the data root")
    return folder


def unpack_archive(archive: Path, target: Path) -> None:
    """Unpack a data zip or tar into ``target`` (which must not exist) with the archive caps."""
    if target.exists():
        raise HostedRefused(f"data: {target.name!r} already has data; choose another slug")
    try:
        unpack_data_archive(archive, target, archive_limits(), archive.name)
    except ArchiveError as exc:
        raise HostedRefused(f"data: {exc}") from None


def create_uploaded(
    user: AbstractBaseUser, spec_text: bytes | str, data_root: Path,
    archive: Path | None = None, data_folder: str = "",
) -> Benchmark:
    """Check, unpack, record and queue the build of an uploaded benchmark (see the module's docstring)."""
    if (archive is None) == (not data_folder):
        raise HostedRefused("data: send either a data archive or a data_folder, not both or neither")
    document = read_spec_document(spec_text)
    slug = document["slug"]
    check_slug_free(slug)
    folder = data_folder_under_root(data_folder, data_root) if data_folder else data_root / UPLOADED_FOLDER / slug
    text = validated_spec_text(document, folder)
    if archive is not None:
        unpack_archive(archive, folder)
    try:
        benchmark = _record(user, slug, text, folder)
    except Exception:
        if archive is not None:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    queue_build(benchmark)
    return benchmark


def _record(user: AbstractBaseUser, slug: str, text: str, folder: Path) -> Benchmark:
    """The inactive benchmark row and its spec file, together."""
    path = _write_spec(slug, text)
    try:
        spec = load_spec(path)
        with transaction.atomic():
            benchmark = Benchmark.objects.create(
                slug=slug, title=spec.title, task=spec.task, summary=spec.summary, spec=spec_document(spec),
                spec_version=spec.version, order=spec.order, is_active=False, origin=Origin.UPLOADED,
                build_state=BuildState.QUEUED, build_message="waiting for a worker", data_folder=str(folder),
                created_by=user,
            )
            BenchmarkHost.objects.create(benchmark=benchmark, user=user, role=HostRole.OWNER)
            return benchmark
    except Exception:
        path.unlink(missing_ok=True)
        raise


def _write_spec(slug: str, text: str) -> Path:
    folder = extra_specs_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{slug}.yaml"
    path.write_text(text)
    return path


def queue_build(benchmark: Benchmark) -> None:
    """Send the build to the maintenance queue once the row is committed."""
    transaction.on_commit(lambda: build_uploaded_benchmark.apply_async(args=[benchmark.pk], queue="maintenance"))


def publish(benchmark: Benchmark) -> None:
    """Make a built uploaded benchmark visible to participants."""
    if benchmark.origin != Origin.UPLOADED:
        raise HostedRefused(f"{benchmark.slug}: only uploaded benchmarks are published this way")
    if benchmark.build_state != BuildState.BUILT:
        raise HostedRefused(f"{benchmark.slug}: is {benchmark.build_state or 'not built'}; publish it once built")
    benchmark.is_active = True
    benchmark.save(update_fields=["is_active", "updated"])
