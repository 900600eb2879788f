"""Safe reading of uploaded container image tarballs (``docker save`` output, plain or compressed).

The tarball is streamed, never unpacked: every decompressed byte is counted
against the cap (a gzip bomb, a lying size header, a compressed layer
inside the image), and names, links and member types are checked as they
come. A hostile archive raises ``ArchiveError`` with one sentence.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import posixpath
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

from evaluator.archives import (
    MEGABYTE,
    READ_CHUNK,
    UNPACK_ERRORS,
    ArchiveError,
    check_ratio,
    member_path_problem,
    one_line,
)

# Image tarballs (``docker save``): members, and how far the whole (or any layer in it) may inflate
# once past a floor (the worker's loader, evaluator/runners/image_tarball.py, uses the same two).
MAX_TAR_MEMBERS = 10000
MAX_TAR_COMPRESSION_RATIO = 100
TAR_RATIO_FLOOR_BYTES = 256 * MEGABYTE

_COMPRESSED_MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz", b"\x28\xb5\x2f\xfd": "zstd"}


@dataclass(frozen=True)
class TarLimits:
    """Bounds for an image tarball: decompressed bytes in all, members, inflation ratio."""

    max_bytes: int
    max_members: int = MAX_TAR_MEMBERS
    max_ratio: float = MAX_TAR_COMPRESSION_RATIO


def check_image_tarball(archive: Path, limits: TarLimits, name: str = "") -> set[str]:
    """Stream through an image tarball (plain, gzip, bzip2 or xz) without unpacking it; returns member names.

    Counts the decompressed bytes actually read (and, for members that are
    themselves compressed, such as gzip layers, their decompressed bytes
    too: a conservative count) against ``limits.max_bytes`` and, past
    ``TAR_RATIO_FLOOR_BYTES``, the inflation ratio; refuses unsafe
    names, links that leave the archive, device files and more than
    ``limits.max_members`` members.
    """
    archive = Path(archive)
    name = name or archive.name
    compressed_size = max(archive.stat().st_size, 1)
    with open(archive, "rb") as raw:
        budget = _Budget(limits, compressed_size, name)
        try:
            stream = _CountingReader(_decompressed(raw, name), budget)
            with tarfile.open(fileobj=stream, mode="r|") as bundle:  # type: ignore[call-overload]
                return _walk_tar(bundle, budget, name)
        except ArchiveError:
            raise
        except UNPACK_ERRORS as exc:
            raise ArchiveError(
                f"{name}: not a readable tar archive ({one_line(exc)}); make one with `docker save`"
            ) from None


class _Budget:
    """Decompressed bytes read so far, against the cap and the ratio to the upload's size."""

    def __init__(self, limits: TarLimits, compressed_size: int, name: str) -> None:
        self.limits = limits
        self.compressed_size = compressed_size
        self.name = name
        self.used = 0

    def spend(self, count: int) -> None:
        self.used += count
        if self.used > self.limits.max_bytes:
            raise ArchiveError(
                f"{self.name}: unpacks to more than the limit of {self.limits.max_bytes / MEGABYTE:g} MB"
            )
        check_ratio(self.used, self.compressed_size, self.limits.max_ratio, f"{self.name}: the archive",
                     floor=TAR_RATIO_FLOOR_BYTES)


class _CountingReader:
    """A read-only stream that charges every byte it returns to a budget."""

    def __init__(self, source: IO[bytes], budget: _Budget) -> None:
        self.source = source
        self.budget = budget

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(READ_CHUNK if size is None or size < 0 else min(size, READ_CHUNK))
        self.budget.spend(len(data))
        return data


def _decompressed(raw: BinaryIO, name: str) -> IO[bytes]:
    kind = _compression(raw.read(6))
    raw.seek(0)
    if kind == "zstd":
        raise ArchiveError(f"{name}: zstd-compressed tarballs are not accepted; send the `docker save` output as it is")
    return _open_compressed(raw, kind) if kind else raw


def _open_compressed(source: IO[bytes], kind: str) -> IO[bytes]:
    if kind == "gzip":
        return gzip.GzipFile(fileobj=source, mode="rb")
    if kind == "bzip2":
        return bz2.BZ2File(source, mode="rb")
    return lzma.LZMAFile(source, mode="rb")


def _compression(head: bytes) -> str:
    return next((kind for magic, kind in _COMPRESSED_MAGIC.items() if head.startswith(magic)), "")


def _walk_tar(bundle: tarfile.TarFile, budget: _Budget, name: str) -> set[str]:
    names: set[str] = set()
    for count, member in enumerate(bundle, start=1):
        if count > budget.limits.max_members:
            raise ArchiveError(f"{name}: more than {budget.limits.max_members} members in the archive")
        path = _tar_member_path(member, name)
        if path in names and not member.isdir():
            raise ArchiveError(f"{name}: member {member.name!r} appears twice")
        _check_tar_member_type(member, path, names, name)
        names.add(path)
        if member.isfile():
            _charge_nested(bundle, member, budget, name)
    return names


def _tar_member_path(member: tarfile.TarInfo, name: str) -> str:
    """The member's path without a leading ``./``; '' only for the archive's own root folder."""
    raw = _without_dot_slash(member.name)
    if raw in ("", ".") and member.isdir():
        return ""
    problem = member_path_problem(raw + "/" if member.isdir() and not raw.endswith("/") else raw)
    if problem:
        raise ArchiveError(f"{name}: member {member.name!r} {problem}")
    return raw.rstrip("/")


def _without_dot_slash(path: str) -> str:
    while path.startswith("./"):
        path = path[2:]
    return path


def _check_tar_member_type(member: tarfile.TarInfo, path: str, earlier: set[str], name: str) -> None:
    if member.isfile() or member.isdir():
        return
    if member.issym():
        target = posixpath.normpath(posixpath.join(posixpath.dirname(path), member.linkname))
        if member.linkname.startswith("/") or target == ".." or target.startswith("../"):
            raise ArchiveError(f"{name}: member {member.name!r} links outside the archive ({member.linkname!r})")
        return
    if member.islnk():
        if _without_dot_slash(member.linkname).rstrip("/") not in earlier:
            raise ArchiveError(
                f"{name}: member {member.name!r} is a hard link to {member.linkname!r}, not an earlier member"
            )
        return
    raise ArchiveError(
        f"{name}: member {member.name!r} is a device, fifo or other special file; "
        "only files, folders and links are allowed"
    )


def _charge_nested(bundle: tarfile.TarFile, member: tarfile.TarInfo, budget: _Budget, name: str) -> None:
    """A member that is itself compressed (a gzip layer) is charged what it inflates to, ratio-checked."""
    handle = bundle.extractfile(member)
    if handle is None:
        return
    kind = _compression(handle.peek(6)[:6])  # type: ignore[attr-defined]
    if not kind:
        return
    what = f"{name}: member {member.name!r}"
    if kind == "zstd":
        raise ArchiveError(f"{what} is zstd-compressed; send the `docker save` output as it is")
    inflated = 0
    with _open_compressed(handle, kind) as layer:
        while chunk := layer.read(READ_CHUNK):
            inflated += len(chunk)
            check_ratio(inflated, member.size, budget.limits.max_ratio, what, floor=TAR_RATIO_FLOOR_BYTES)
            budget.spend(len(chunk))
