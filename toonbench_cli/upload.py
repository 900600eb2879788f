"""Request bodies that stream from disk and report progress: a multipart/form-data form, one chunk of a file.

``requests`` sends any object with ``read`` and ``__len__`` as a streamed
body with a ``Content-Length``; reading it here drives a progress bar, so a
multi-gigabyte image tarball never sits in memory.
"""

from __future__ import annotations

import hashlib
import io
import mimetypes
import uuid
import zipfile
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Callable, Iterator

HASH_PIECE_BYTES = 4 * 1024 * 1024


class MultipartBody:
    def __init__(self, fields: dict[str, str], file_field: str | None = None, file_path: Path | None = None,
                 on_read: Callable[[int], None] | None = None) -> None:
        self.boundary = f"toonbench-{uuid.uuid4().hex}"
        self.on_read = on_read or (lambda count: None)
        self._parts: list[BinaryIO] = []
        self._length = 0
        for name, value in fields.items():
            self._add_bytes(self._header(name) + str(value).encode() + b"\r\n")
        if file_field is not None and file_path is not None:
            content_type = mimetypes.guess_type(file_path.name)[0] or "application/octet-stream"
            self._add_bytes(self._header(file_field, file_path.name, content_type))
            self._parts.append(open(file_path, "rb"))
            self._length += file_path.stat().st_size
            self._add_bytes(b"\r\n")
        self._add_bytes(f"--{self.boundary}--\r\n".encode())
        self.file_bytes = file_path.stat().st_size if file_path is not None else 0

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def _header(self, name: str, filename: str | None = None, content_type: str | None = None) -> bytes:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            safe_name = filename.replace('"', "_").replace("\r", "_").replace("\n", "_")
            disposition += f'; filename="{safe_name}"'
        lines = [f"--{self.boundary}", f"Content-Disposition: {disposition}"]
        if content_type:
            lines.append(f"Content-Type: {content_type}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def _add_bytes(self, data: bytes) -> None:
        self._parts.append(io.BytesIO(data))
        self._length += len(data)

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1) -> bytes:
        chunks = []
        wanted = size if size is not None and size >= 0 else self._length
        while self._parts and wanted > 0:
            chunk = self._parts[0].read(wanted)
            if not chunk:
                self._parts.pop(0).close()
                continue
            chunks.append(chunk)
            wanted -= len(chunk)
        data = b"".join(chunks)
        self.on_read(len(data))
        return data

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.read(1 << 16):
            yield chunk

    def close(self) -> None:
        for part in self._parts:
            part.close()
        self._parts = []


class FileSlice:
    """``length`` bytes of a file from ``start`` on: one chunk of a resumable upload, read as it is sent."""

    def __init__(self, path: Path, start: int, length: int, on_read: Callable[[int], None] | None = None) -> None:
        self._file = open(path, "rb")
        self._file.seek(start)
        self._length = length
        self._left = length
        self.on_read = on_read or (lambda count: None)

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1) -> bytes:
        wanted = self._left if size is None or size < 0 else min(size, self._left)
        data = self._file.read(wanted)
        self._left -= len(data)
        self.on_read(len(data))
        return data

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "FileSlice":
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def file_sha256(path: Path, on_read: Callable[[int], None] | None = None) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while piece := source.read(HASH_PIECE_BYTES):
            digest.update(piece)
            if on_read is not None:
                on_read(len(piece))
    return digest.hexdigest()


def zip_folder(folder: Path, target: Path) -> Path:
    """Zip every file under ``folder`` with paths relative to it (the output folder's layout)."""
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    if not files:
        raise SystemExit(f"{folder}: the folder is empty; expected scores.npy, embeddings.npy or images/")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.relative_to(folder).as_posix())
    return target
