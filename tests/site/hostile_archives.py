"""Hostile archives built byte by byte: what an attacker can send, not what zipfile or tarfile would write."""

from __future__ import annotations

import gzip
import io
import struct
import tarfile
import warnings
import zipfile
import zlib
from typing import Callable

MB = 1024 * 1024


def zip_with_empty_entries(count: int) -> bytes:
    """A stored zip of ``count`` empty files named 0, 1, ...; zip64 end records past 65,535 entries."""
    local, central = io.BytesIO(), io.BytesIO()
    for index in range(count):
        name = str(index).encode()
        offset = local.tell()
        local.write(struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0) + name)
        central.write(struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0, 0, 0,
                                  0, 0, offset) + name)
    directory_at, directory = local.tell(), central.getvalue()
    tail = b""
    if count > 0xFFFF:
        zip64_at = directory_at + len(directory)
        tail += struct.pack("<4sQ2H2I4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, len(directory), directory_at)
        tail += struct.pack("<4sIQI", b"PK\x06\x07", 0, zip64_at, 1)
    entries = min(count, 0xFFFF)
    tail += struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, entries, entries, len(directory), directory_at, 0)
    return local.getvalue() + directory + tail


def zip_lying_about_size(data: bytes, declared: int) -> bytes:
    """A deflated ``scores.npy`` whose local and central headers declare ``declared`` bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("scores.npy", data)
    raw = bytearray(buffer.getvalue())
    struct.pack_into("<I", raw, 22, declared)
    central = raw.find(b"PK\x01\x02")
    struct.pack_into("<I", raw, central + 24, declared)
    return bytes(raw)


def zip_renamed(members: dict[str, bytes], renames: dict[bytes, bytes]) -> bytes:
    """A zip whose stored names are rewritten byte for byte (same length), e.g. to put a NUL in a name."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
    raw = buffer.getvalue()
    for old, new in renames.items():
        assert len(old) == len(new)
        raw = raw.replace(old, new)
    return raw


def zip_entries(names: list[str], data: bytes = b"x") -> bytes:
    """A zip with these entry names as given (duplicates and all; a trailing '/' makes a folder)."""
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as bundle:
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names, and writes them
        for name in names:
            bundle.writestr(zipfile.ZipInfo(name), b"" if name.endswith("/") else data)
    return buffer.getvalue()


class _Zeros(io.RawIOBase):
    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        count = min(len(buffer), self.left)
        buffer[:count] = bytes(count)
        self.left -= count
        return count


def tar_member(archive: tarfile.TarFile, name: str, size: int = 0, data: bytes | None = None, **fields: object) -> None:
    info = tarfile.TarInfo(name)
    for key, value in fields.items():
        setattr(info, key, value)
    if data is not None:
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    elif info.isfile():
        info.size = size
        archive.addfile(info, io.BufferedReader(_Zeros(size)))
    else:
        archive.addfile(info)


def gzip_tar_bomb(inflated_bytes: int) -> bytes:
    """A gzip tarball: ``manifest.json`` and one layer of ``inflated_bytes`` zeros (0.3 MB -> 0.27 GB)."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9) as packed:
        with tarfile.open(fileobj=packed, mode="w|") as archive:
            tar_member(archive, "manifest.json", data=b"[]")
            tar_member(archive, "blobs/sha256/layer", size=inflated_bytes)
    return buffer.getvalue()


def tar_with_gzip_layer(inflated_bytes: int) -> bytes:
    """A plain tar whose one layer is itself gzip of ``inflated_bytes`` zeros (what dockerd would unpack)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = bytes(MB)
    layer = b"".join(compressor.compress(chunk) for _ in range(inflated_bytes // MB)) + compressor.flush()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        tar_member(archive, "manifest.json", data=b"[]")
        tar_member(archive, "blobs/sha256/layer", data=layer)
    return buffer.getvalue()


def tar_of(build: Callable[[tarfile.TarFile], None]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        build(archive)
    return buffer.getvalue()
