"""Safe unpacking of uploaded predictions zips (image tarballs: ``evaluator.tarballs``).

Every limit is checked on what an archive really holds, not on what its
headers claim: a zip's entry count and central-directory size are read from
its end-of-central-directory record (zip64 too) before ``zipfile`` parses a
single entry, and decompressed sizes are counted on the bytes actually
produced (a lying size header, a gzip bomb, a compressed layer inside an
image tarball). A malformed or hostile archive raises ``ArchiveError`` with
one sentence that names the archive (and the member) and what was expected;
no other exception escapes.
"""

from __future__ import annotations

import lzma
import stat
import struct
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MEGABYTE = 1024 * 1024

# Predictions archives: more than this many members beyond the expected outputs is refused,
# and so is any member that inflates more than MAX_COMPRESSION_RATIO-fold.
EXTRA_ARCHIVE_MEMBERS = 16
MAX_COMPRESSION_RATIO = 200
RATIO_CHECK_MIN_BYTES = MEGABYTE
# Folder entries a zip may carry beside its files, and the central-directory bytes allowed per
# entry (46 fixed bytes plus name, extra field and comment): bounds what parsing the directory costs.
DIRECTORY_ENTRY_ALLOWANCE = 64
CENTRAL_DIRECTORY_BYTES_PER_ENTRY = 1024
READ_CHUNK = MEGABYTE

_EOCD = struct.Struct("<4sHHHHIIH")
_EOCD_SIGNATURE = b"PK\x05\x06"
_ZIP64_LOCATOR = struct.Struct("<4sIQI")
_ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
_ZIP64_EOCD = struct.Struct("<4sQHHIIQQQQ")
_ZIP64_EOCD_SIGNATURE = b"PK\x06\x06"
_MAX_ZIP_COMMENT = 0xFFFF
UNPACK_ERRORS = (
    zipfile.BadZipFile, zipfile.LargeZipFile, tarfile.TarError, zlib.error, lzma.LZMAError, EOFError,
    OSError, struct.error, NotImplementedError, RuntimeError, ValueError,
)


class ArchiveError(ValueError):
    """The archive cannot be accepted; the message is shown to the submitter."""


@dataclass(frozen=True)
class ArchiveLimits:
    max_files: int
    max_bytes: int
    max_ratio: float = MAX_COMPRESSION_RATIO


@dataclass(frozen=True)
class CentralDirectory:
    entries: int
    size: int


def read_central_directory(archive: Path) -> CentralDirectory:
    """The entry count and byte size a zip's end-of-central-directory record (or zip64 record) declares.

    Read the way ``zipfile`` finds the record (at the very end, else the last
    signature within a maximal comment), so both agree on which one counts.
    """
    name = archive.name
    with open(archive, "rb") as handle:
        handle.seek(0, 2)
        file_size = handle.tell()
        tail_start = max(file_size - (_EOCD.size + _MAX_ZIP_COMMENT), 0)
        handle.seek(tail_start)
        tail = handle.read()
        at = len(tail) - _EOCD.size if tail[-_EOCD.size:][:4] == _EOCD_SIGNATURE else tail.rfind(_EOCD_SIGNATURE)
        if at < 0 or len(tail) - at < _EOCD.size:
            raise ArchiveError(f"{name}: not a readable zip archive (no end-of-central-directory record)")
        _, disk, _, _, entries, size, _, _ = _EOCD.unpack(tail[at:at + _EOCD.size])
        if disk != 0:
            raise ArchiveError(f"{name}: multi-part zip archives are not accepted; send one zip file")
        record_at = tail_start + at
        if record_at < _ZIP64_LOCATOR.size:
            return CentralDirectory(entries, size)
        handle.seek(record_at - _ZIP64_LOCATOR.size)
        locator = handle.read(_ZIP64_LOCATOR.size)
        if locator[:4] != _ZIP64_LOCATOR_SIGNATURE:
            return CentralDirectory(entries, size)
        zip64_at = _ZIP64_LOCATOR.unpack(locator)[2]
        handle.seek(min(zip64_at, file_size))
        record = handle.read(_ZIP64_EOCD.size)
        if len(record) < _ZIP64_EOCD.size or record[:4] != _ZIP64_EOCD_SIGNATURE:
            raise ArchiveError(f"{name}: not a readable zip archive (broken zip64 end-of-central-directory record)")
        fields = _ZIP64_EOCD.unpack(record)
        return CentralDirectory(max(entries, fields[7]), max(size, fields[8]))


def check_central_directory(archive: Path, limits: ArchiveLimits) -> None:
    """Refuse a zip whose central directory is too big to parse, before anything parses it."""
    directory = read_central_directory(archive)
    max_entries = limits.max_files + DIRECTORY_ENTRY_ALLOWANCE
    if directory.entries > max_entries:
        raise ArchiveError(
            f"{archive.name}: {directory.entries} entries in the archive, expected at most {max_entries}"
        )
    if directory.size > max_entries * CENTRAL_DIRECTORY_BYTES_PER_ENTRY:
        raise ArchiveError(
            f"{archive.name}: its central directory is {directory.size} bytes, over "
            f"{CENTRAL_DIRECTORY_BYTES_PER_ENTRY} bytes for each of at most {max_entries} entries"
        )


def member_path_problem(name: str) -> str:
    """Why an archive member's name is refused ('' when it is a safe relative path).

    Names must be relative, use ``/``, and consist of non-empty components
    other than ``.`` and ``..`` (one trailing ``/`` marks a folder).
    """
    if not name:
        return "has an empty name"
    if "\x00" in name:
        return "has a NUL byte in its name"
    if "\\" in name or name.startswith("/") or ":" in name:
        return "has an unsafe path (absolute, '..' or drive)"
    parts = name[:-1].split("/") if name.endswith("/") else name.split("/")
    if ".." in parts:
        return "has an unsafe path (absolute, '..' or drive)"
    if "." in parts:
        return "has a '.' path component"
    if "" in parts:
        return "has an empty path component ('//')"
    return ""


def extract_predictions(archive: Path, output_dir: Path, limits: ArchiveLimits) -> list[Path]:
    """Unpack a predictions zip into ``output_dir`` safely; returns the written files.

    Refused, with a reason naming the member: not a zip, a central directory
    with more entries (or bytes) than the benchmark needs, encrypted members,
    unsafe names (absolute, ``..``, ``.``, empty, NUL, duplicates, a file that
    is also a folder), links, more members than the benchmark needs, a total
    uncompressed size over ``limits.max_bytes``, a member inflating more than
    ``max_ratio``-fold (zip bomb), a member whose data does not match its
    header. Sizes are counted on the actual bytes written, not only on the
    headers. One common top-level folder (``output/scores.npy``) is stripped.
    """
    archive = Path(archive)
    check_central_directory(archive, limits)
    try:
        bundle = zipfile.ZipFile(archive)
    except UNPACK_ERRORS as exc:
        raise ArchiveError(f"{archive.name}: not a readable zip archive ({one_line(exc)})") from None
    with bundle:
        entries = bundle.infolist()
        _check_names(entries, archive.name)
        members = [info for info in entries if not info.is_dir()]
        _check_members(members, limits, archive.name)
        prefix = _common_folder([info.filename for info in members])
        written: list[Path] = []
        total = 0
        for info in members:
            relative = PurePosixPath(info.filename).relative_to(prefix) if prefix else PurePosixPath(info.filename)
            target = output_dir.joinpath(*relative.parts)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                total = _copy_member(bundle, info, target, total, limits, archive.name)
            except ArchiveError:
                raise
            except UNPACK_ERRORS as exc:
                raise ArchiveError(
                    f"{archive.name}: member {info.filename!r} cannot be unpacked ({one_line(exc)})"
                ) from None
            written.append(target)
    return written


def _check_names(entries: list[zipfile.ZipInfo], name: str) -> None:
    """Every entry (folders too) has a safe, unique name, and no file is also a folder."""
    seen: set[str] = set()
    folders: set[str] = set()
    for info in entries:
        problem = member_path_problem(info.orig_filename)
        if problem:
            raise ArchiveError(f"{name}: member {info.orig_filename!r} {problem}")
        path = info.filename.rstrip("/")
        if path in seen:
            raise ArchiveError(f"{name}: member {info.filename!r} appears twice")
        seen.add(path)
        parents = PurePosixPath(path).parents
        folders.update(str(parent) for parent in list(parents)[:-1])
        if info.is_dir():
            folders.add(path)
    files = {info.filename for info in entries if not info.is_dir()}
    both = sorted(files & folders)
    if both:
        raise ArchiveError(f"{name}: member {both[0]!r} is both a file and a folder")


def _check_members(members: list[zipfile.ZipInfo], limits: ArchiveLimits, name: str) -> None:
    if not members:
        raise ArchiveError(f"{name}: the archive is empty")
    if len(members) > limits.max_files:
        raise ArchiveError(f"{name}: {len(members)} files in the archive, expected at most {limits.max_files}")
    declared = sum(info.file_size for info in members)
    if declared > limits.max_bytes:
        raise ArchiveError(
            f"{name}: unpacks to {declared / MEGABYTE:.1f} MB, over the limit of {limits.max_bytes / MEGABYTE:g} MB"
        )
    for info in members:
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ArchiveError(f"{name}: member {info.filename!r} is a link; only plain files are allowed")
        if info.flag_bits & 0x1:
            raise ArchiveError(f"{name}: member {info.filename!r} is encrypted")
        what = f"{name}: member {info.filename!r}"
        check_ratio(info.file_size, info.compress_size, limits.max_ratio, what, "zip bomb")


def check_ratio(
    inflated: int, compressed: int, max_ratio: float, what: str, bomb: str = "tar bomb",
    floor: int = RATIO_CHECK_MIN_BYTES,
) -> None:
    if inflated >= floor and inflated / max(compressed, 1) > max_ratio:
        raise ArchiveError(f"{what} inflates more than {max_ratio:g}-fold; refusing a possible {bomb}")


def _common_folder(names: list[str]) -> PurePosixPath | None:
    """The one top-level folder every member sits in, if there is one."""
    tops = {PurePosixPath(name).parts[0] for name in names}
    if len(tops) == 1 and all(len(PurePosixPath(name).parts) > 1 for name in names):
        return PurePosixPath(tops.pop())
    return None


def _copy_member(
    bundle: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, total: int, limits: ArchiveLimits, name: str
) -> int:
    member_bytes = 0
    with bundle.open(info) as source, open(target, "wb") as sink:
        while chunk := source.read(READ_CHUNK):
            total += len(chunk)
            member_bytes += len(chunk)
            if total > limits.max_bytes:
                raise ArchiveError(
                    f"{name}: unpacks to more than the limit of {limits.max_bytes / MEGABYTE:g} MB "
                    f"(stopped at {info.filename!r})"
                )
            check_ratio(
                member_bytes, info.compress_size, limits.max_ratio, f"{name}: member {info.filename!r}", "zip bomb"
            )
            sink.write(chunk)
    return total


def one_line(exc: BaseException) -> str:
    """An exception in one line, without the host paths an ``OSError`` carries."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
