"""Load a ``docker save`` tarball into the engine: names dropped, sizes bounded.

A submitted tarball is loaded under its content id only (never the names it
records, which could take over another image's name), and what it unpacks
to is bounded: ``max_image_mb`` in all and ``max_image_ratio`` times the
uploaded file's size (past ``IMAGE_RATIO_FLOOR_MB``), so a gzip file of a
few hundred KB cannot stream gigabytes into the engine.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker.errors

from evaluator.tarballs import MAX_TAR_COMPRESSION_RATIO, TAR_RATIO_FLOOR_BYTES
from evaluator.runners.base import MEGABYTE, ImageUnavailable

MAX_TARBALL_MB = 20 * 1024
MAX_IMAGE_MB = 20 * 1024
MAX_IMAGE_RATIO = MAX_TAR_COMPRESSION_RATIO
IMAGE_RATIO_FLOOR_MB = TAR_RATIO_FLOOR_BYTES // MEGABYTE
TAR_BLOCK = 512


@dataclass(frozen=True)
class TarballCaps:
    """The uploaded file's size cap and the caps on what it unpacks to."""

    max_tarball_mb: float = MAX_TARBALL_MB
    max_image_mb: float = MAX_IMAGE_MB
    max_image_ratio: float = MAX_IMAGE_RATIO

    def unpacked_cap_bytes(self, compressed_bytes: int) -> int:
        """The most a tarball of this size may unpack to: the absolute cap, and the ratio cap above a floor."""
        by_ratio = max(self.max_image_ratio * compressed_bytes, IMAGE_RATIO_FLOOR_MB * MEGABYTE)
        return int(min(self.max_image_mb * MEGABYTE, by_ratio))


def load_image_tarball(client: Any, tarball: Path, caps: TarballCaps) -> Any:
    """The one image in ``tarball``, loaded without its names; ``ImageUnavailable`` with a one-line reason."""
    if not tarball.is_file():
        raise ImageUnavailable(f"{tarball.name}: image tarball not found on the worker")
    size = tarball.stat().st_size
    if size / MEGABYTE > caps.max_tarball_mb:
        raise ImageUnavailable(
            f"{tarball.name}: image tarball is {size / MEGABYTE:.0f} MB, over the limit of {caps.max_tarball_mb:g} MB"
        )
    stream = UntaggedImageStream(tarball, caps.unpacked_cap_bytes(size))
    try:
        images = client.images.load(iter(stream))
    except docker.errors.DockerException as exc:
        if stream.too_large:
            raise ImageUnavailable(too_large_reason(stream, caps)) from None
        detail = stream.error or getattr(exc, "explanation", None) or exc
        raise ImageUnavailable(
            f"{tarball.name}: not a loadable image tarball (expected `docker save` output): {_first_line(detail)}"
        ) from None
    if stream.too_large:
        for image in images:
            _remove_quietly(client, image.id)
        raise ImageUnavailable(too_large_reason(stream, caps))
    if len(images) != 1:
        raise ImageUnavailable(f"{tarball.name}: holds {len(images)} images; a submission must hold exactly one")
    return images[0]


def too_large_reason(stream: "UntaggedImageStream", caps: TarballCaps) -> str:
    return (
        f"{stream.tarball.name}: the image tarball unpacks to more than {stream.max_bytes / MEGABYTE:g} MB "
        f"(limits: {caps.max_image_mb:g} MB, TOONBENCH_MAX_IMAGE_MB, and {caps.max_image_ratio:g} times "
        "the uploaded file's size); refusing it"
    )


class UntaggedImageStream:
    """The bytes of a ``docker save`` tarball with every image name removed, streamed.

    ``docker load`` applies the names recorded in the tarball, so a submission
    could otherwise take over the name of another image in the engine (a base
    image, another submission). The names are dropped on the fly (the image is
    then known by its id only), without a second copy on disk.

    It also bounds what the tarball unpacks to: past ``max_bytes`` written
    (a gzip file of a few hundred KB can inflate to gigabytes) the stream
    stops, ``too_large`` is set and the engine sees a truncated archive.
    """

    CHUNK = 1 << 20
    NAME_ANNOTATIONS = ("io.containerd.image.name", "org.opencontainers.image.ref.name")

    def __init__(self, tarball: Path, max_bytes: int = MAX_IMAGE_MB * MEGABYTE) -> None:
        self.tarball = tarball
        self.max_bytes = max_bytes
        self.written = 0
        self.too_large = False
        self.error: str | None = None

    def __iter__(self) -> Iterator[bytes]:
        read_end, write_end = os.pipe()
        writer = threading.Thread(target=self._rewrite, args=(write_end,), daemon=True)
        writer.start()
        with os.fdopen(read_end, "rb") as source:
            yield from iter(lambda: source.read(self.CHUNK), b"")
        writer.join()

    def _rewrite(self, write_end: int) -> None:
        try:
            with os.fdopen(write_end, "wb") as sink, tarfile.open(self.tarball, "r|*") as source, tarfile.open(
                fileobj=sink, mode="w|"
            ) as target:
                for member in source:
                    name = member.name.removeprefix("./")
                    if name == "repositories":
                        continue
                    self.written += TAR_BLOCK + (member.size if member.isfile() else 0)
                    if self.written > self.max_bytes:
                        self.too_large = True
                        raise _Unpacked()
                    content = source.extractfile(member) if member.isfile() else None
                    if name in ("manifest.json", "index.json") and content is not None:
                        raw = self._without_names(name, json.loads(content.read()))
                        member.size = len(raw)
                        content = io.BytesIO(raw)
                    target.addfile(member, content)
        except _Unpacked:
            self.error = f"unpacks to more than {self.max_bytes / MEGABYTE:g} MB"
        except (OSError, tarfile.TarError, ValueError, EOFError) as exc:
            self.error = f"{type(exc).__name__}: {exc}"

    def _without_names(self, name: str, document: Any) -> bytes:
        if name == "manifest.json":
            for entry in document:
                entry["RepoTags"] = None
        else:
            for entry in document.get("manifests", []):
                for key in self.NAME_ANNOTATIONS:
                    entry.get("annotations", {}).pop(key, None)
        return json.dumps(document).encode()


class _Unpacked(Exception):
    """The tarball unpacks past its cap; the stream stops."""


def _remove_quietly(client: Any, image_id: str) -> None:
    try:
        client.images.remove(image_id)
    except docker.errors.APIError:  # named elsewhere or still in use
        pass


def _first_line(detail: object) -> str:
    text = str(detail).strip()
    return text.splitlines()[0] if text else type(detail).__name__
