"""Resumable uploads of large artefacts, chunk by chunk, after the core of the tus protocol.

An upload is created with its total size, refused at once when that is over
the benchmark's ``limits.upload_mb``, and refused with 507 when those bytes
cannot be reserved (``uploads.ledger``: per user, in total and
against the disk's free space); they stay reserved until the upload
completes, is deleted or is swept. It then grows by chunks, each appended
at the upload's current offset; a chunk sent for any other offset is refused
with that offset, so a client that lost a connection asks for the offset and
goes on from there. Completing it (``completed_file``) hashes the bytes
against the declared sha256 and hands them to the intake
(``submissions.services.complete_upload``), which runs the same input
checks as a one-shot upload and stores the file as a new submission's
artefact.

The bytes grow in a part file named after the upload's random id under
``TOONBENCH_UPLOAD_DIR``; the row's ``received_bytes`` is the committed
offset. A chunk is read from the request in pieces, never whole, and the
bytes of a chunk whose connection dropped are kept up to where it stopped
(tus: "store as much of the received data as possible"). Only one chunk of
an upload is written at a time (a lock on the part file), and nothing is
committed while another request changed the offset. Uploads that got no
chunk for ``TOONBENCH_UPLOAD_EXPIRY_S`` are removed by the periodic sweep.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Callable

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from benchmarks.models import Benchmark
from evaluator.archives import MEGABYTE
from uploads.ledger import INSUFFICIENT_STORAGE, StorageRefused, check_room, ledger_lock
from uploads.models import ChunkedUpload

PIECE_BYTES = 1024 * 1024
HASH_PIECE_BYTES = 4 * 1024 * 1024


class UploadError(Exception):
    """A request about an upload is refused; the message says what to do instead.

    ``status`` is the HTTP status that fits; ``offset`` the upload's current
    offset when the client should resume from it; ``discard`` whether the
    upload is useless now (its bytes are deleted).
    """

    def __init__(self, message: str, status: int = 400, offset: int | None = None, discard: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.offset = offset
        self.discard = discard


class PartFile(UploadedFile):
    """The completed part file, offered to the checks and the storage by path, like Django's spilled uploads."""

    def temporary_file_path(self) -> str:
        return str(self.file.name)


def upload_dir() -> Path:
    return Path(settings.TOONBENCH_UPLOAD_DIR)


def part_path(upload: ChunkedUpload) -> Path:
    return upload_dir() / f"{upload.pk.hex}.part"


def chunk_limit_bytes() -> int:
    return int(settings.TOONBENCH_UPLOAD_CHUNK_MB * MEGABYTE)


def expires_at(upload: ChunkedUpload) -> datetime:
    """When the sweep may remove the upload if no further chunk arrives."""
    return upload.updated + timedelta(seconds=settings.TOONBENCH_UPLOAD_EXPIRY_S)


def expiry_hours() -> str:
    return f"{settings.TOONBENCH_UPLOAD_EXPIRY_S / 3600:g} h"


def safe_filename(filename: str) -> str:
    """The base name only, without control characters; the stored artefact gets a random name anyway."""
    base = PurePosixPath(filename.replace("\\", "/")).name
    printable = "".join(character for character in base if character.isprintable())
    return printable[:255] or "upload"


def create_upload(
    owner: AbstractBaseUser, benchmark: Benchmark, kind: str, filename: str, total_bytes: int, sha256: str = ""
) -> ChunkedUpload:
    """Open an upload of ``total_bytes``, within the benchmark's upload limit and the upload budgets."""
    name = safe_filename(filename)
    limit = benchmark.typed_spec.limits.upload_mb * MEGABYTE
    if total_bytes > limit:
        raise UploadError(
            f"{name}: {total_bytes / MEGABYTE:.1f} MB, over {benchmark.slug}'s upload limit of "
            f"{limit / MEGABYTE:.0f} MB (limits.upload_mb)", status=413,
        )
    upload_dir().mkdir(parents=True, exist_ok=True)
    with ledger_lock():
        check_open_count(owner)
        try:
            check_room(owner, total_bytes)
        except StorageRefused as exc:
            raise UploadError(f"{name}: {exc}", status=INSUFFICIENT_STORAGE) from None
        upload = ChunkedUpload.objects.create(
            owner=owner, benchmark=benchmark, kind=kind, filename=name, total_bytes=total_bytes, sha256=sha256.lower()
        )
    os.close(os.open(part_path(upload), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    return upload


def check_open_count(owner: AbstractBaseUser) -> None:
    unfinished = ChunkedUpload.objects.filter(owner=owner, completed_at=None).count()
    if unfinished >= settings.TOONBENCH_UPLOAD_MAX_OPEN:
        raise UploadError(
            f"you already have {unfinished} unfinished uploads (at most {settings.TOONBENCH_UPLOAD_MAX_OPEN}); "
            f"complete or delete one, or wait {expiry_hours()} for it to expire", status=429,
        )


def _expect_offset(upload: ChunkedUpload, committed: int, offset: int) -> None:
    if offset != committed:
        raise UploadError(
            f"upload {upload.pk} is at offset {committed}, not {offset}; send the chunk that starts there",
            status=409, offset=committed,
        )


def _copy_pieces(read: Callable[[int], bytes], sink: BinaryIO, length: int) -> int:
    """Copy up to ``length`` bytes from ``read`` in pieces; a dropped connection just ends the copy early."""
    written = 0
    while written < length:
        try:
            piece = read(min(PIECE_BYTES, length - written))
        except OSError:
            break
        if not piece:
            break
        sink.write(piece)
        written += len(piece)
    return written


def append_chunk(upload: ChunkedUpload, offset: int, length: int, read: Callable[[int], bytes]) -> int:
    """Write a chunk of ``length`` bytes at ``offset``, read through ``read``; returns the new offset."""
    if upload.completed_at is not None:
        raise UploadError(f"upload {upload.pk} is being completed and takes no more chunks", status=409,
                          offset=upload.received_bytes)
    _expect_offset(upload, upload.received_bytes, offset)
    if length > chunk_limit_bytes():
        raise UploadError(f"a chunk of {length} bytes is over the limit of {chunk_limit_bytes()} bytes per request; "
                          "send smaller chunks", status=413)
    if offset + length > upload.total_bytes:
        raise UploadError(f"a chunk of {length} bytes at offset {offset} would end past the upload's total of "
                          f"{upload.total_bytes} bytes", status=400, offset=offset)
    try:
        handle = open(part_path(upload), "r+b")
    except FileNotFoundError:
        raise UploadError(f"upload {upload.pk} lost its stored bytes; start a new upload", status=410) from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UploadError(f"another chunk of upload {upload.pk} is still arriving; ask for the offset and retry",
                              status=423) from None
        committed = ChunkedUpload.objects.filter(pk=upload.pk).values_list("received_bytes", flat=True).first()
        if committed is None:
            raise UploadError(f"upload {upload.pk} was removed; start a new upload", status=410)
        _expect_offset(upload, committed, offset)
        if os.fstat(handle.fileno()).st_size < offset:
            raise UploadError(f"upload {upload.pk} lost its stored bytes; start a new upload", status=410)
        handle.truncate(offset)
        handle.seek(offset)
        written = _copy_pieces(read, handle, length)
        handle.flush()
        os.fsync(handle.fileno())
        moved = ChunkedUpload.objects.filter(pk=upload.pk, received_bytes=offset, completed_at=None).update(
            received_bytes=offset + written, updated=timezone.now()
        )
    if not moved:
        current = ChunkedUpload.objects.filter(pk=upload.pk).values_list("received_bytes", flat=True).first()
        raise UploadError(f"upload {upload.pk} changed while this chunk arrived; go on from its offset",
                          status=409 if current is not None else 410, offset=current)
    upload.received_bytes = offset + written
    return upload.received_bytes


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while piece := source.read(HASH_PIECE_BYTES):
            digest.update(piece)
    return digest.hexdigest()


@contextmanager
def completed_file(upload: ChunkedUpload) -> Iterator[tuple[ChunkedUpload, PartFile]]:
    """The whole upload (fresh from the database) and its bytes, checked against the declared sha256.

    Only one completion of an upload runs (a claim on ``completed_at``).
    When the body returns, the upload is discarded (its bytes became an
    artefact); an ``UploadError`` with ``discard`` discards it too, and any
    other exit releases the claim so the upload can be completed later.
    """
    now = timezone.now()
    if not ChunkedUpload.objects.filter(pk=upload.pk, completed_at=None).update(completed_at=now, updated=now):
        raise UploadError(f"upload {upload.pk} is already being completed", status=409)
    done = False
    try:
        current = ChunkedUpload.objects.select_related("owner", "benchmark").get(pk=upload.pk)
        path = _checked_part(current)
        with open(path, "rb") as handle:
            yield current, PartFile(handle, name=current.filename, size=current.total_bytes)
        done = True
    except UploadError as exc:
        done = exc.discard
        raise
    finally:
        if done:
            discard_upload(upload)
        else:
            ChunkedUpload.objects.filter(pk=upload.pk).update(completed_at=None, updated=timezone.now())


def _checked_part(upload: ChunkedUpload) -> Path:
    """The part file of a complete upload whose bytes hash to the declared sha256."""
    if upload.received_bytes != upload.total_bytes:
        raise UploadError(
            f"upload {upload.pk} has {upload.received_bytes} of {upload.total_bytes} bytes; send the rest from offset "
            f"{upload.received_bytes} before completing it", status=409, offset=upload.received_bytes,
        )
    path = part_path(upload)
    if not path.is_file():
        raise UploadError(f"upload {upload.pk} lost its stored bytes; start a new upload", status=410, discard=True)
    received = file_sha256(path)
    if upload.sha256 and received != upload.sha256:
        raise UploadError(
            f"{upload.filename}: the bytes received have sha256 {received}, not the declared {upload.sha256}; "
            "the upload was discarded, send the file again", status=400, discard=True,
        )
    return path


def discard_upload(upload: ChunkedUpload) -> None:
    """Delete the upload's part file (if the storage did not move it away) and its row."""
    part_path(upload).unlink(missing_ok=True)
    ChunkedUpload.objects.filter(pk=upload.pk).delete()


def remove_abandoned_uploads(now: datetime | None = None) -> list[str]:
    """Remove uploads that got no chunk for ``TOONBENCH_UPLOAD_EXPIRY_S``, and part files left without a row.

    Returns the ids of the removed uploads.
    """
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.TOONBENCH_UPLOAD_EXPIRY_S)
    abandoned = list(ChunkedUpload.objects.filter(updated__lt=cutoff))
    for upload in abandoned:
        discard_upload(upload)
    known = {pk.hex for pk in ChunkedUpload.objects.values_list("pk", flat=True)}
    folder = upload_dir()
    orphans = folder.glob("*.part") if folder.is_dir() else []
    for path in orphans:
        try:
            left_behind = path.stem not in known and path.stat().st_mtime < cutoff.timestamp()
        except FileNotFoundError:
            continue
        if left_behind:
            path.unlink(missing_ok=True)
    return [str(upload.pk) for upload in abandoned]
