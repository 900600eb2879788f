"""Image files for the adapters: listing, decoding and writing them.

Real datasets arrive as JPEG, PNG, BMP and friends; a built benchmark always
holds PNG files named by opaque ids, so a container never sees a source file
name (which often spells the class or the character).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
from pydantic import Field, field_validator

from datasets.adapters.base import AdapterError
from datasets.components import Params

IMAGE_EXTENSIONS = (".bmp", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")


def normalise_extensions(extensions: list[str]) -> list[str]:
    """``["JPG", ".png"]`` -> ``[".jpg", ".png"]``."""
    return sorted({"." + ext.lower().lstrip(".") for ext in extensions})


class ImageFolderOptions(Params):
    """Options shared by adapters that list image files: which extensions count as images."""

    extensions: list[str] = Field(default_factory=lambda: list(IMAGE_EXTENSIONS), min_length=1)

    @field_validator("extensions")
    @classmethod
    def _normalise(cls, value: list[str]) -> list[str]:
        return normalise_extensions(value)


def opaque_id(namespace: str, relative: str) -> str:
    """First 16 hex chars of sha256 of ``namespace:relative`` (a source path, never a label)."""
    return hashlib.sha256(f"{namespace}:{relative}".encode()).hexdigest()[:16]


def list_images(folder: Path, extensions: list[str]) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name; hidden files skipped."""
    wanted = set(normalise_extensions(extensions))
    return sorted(
        path for path in folder.iterdir()
        if path.is_file() and not path.name.startswith(".") and path.suffix.lower() in wanted
    )


def list_images_recursive(folder: Path, extensions: list[str]) -> list[Path]:
    """Image files anywhere under ``folder``, sorted by relative path; hidden files and folders skipped."""
    wanted = set(normalise_extensions(extensions))
    return sorted(
        path for path in folder.rglob("*")
        if path.is_file() and path.suffix.lower() in wanted
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )


def square_resized(image: np.ndarray, side: int) -> np.ndarray:
    """The centred square crop of ``image`` (its shorter side), resized to ``side`` x ``side``.

    Shrinking uses area averaging (no aliasing), enlarging bicubic interpolation.
    """
    height, width = image.shape[:2]
    short = min(height, width)
    top, left = (height - short) // 2, (width - short) // 2
    square = image[top:top + short, left:left + short]
    interpolation = cv2.INTER_AREA if short >= side else cv2.INTER_CUBIC
    return np.ascontiguousarray(cv2.resize(square, (side, side), interpolation=interpolation))


def read_image(path: Path, where: str | None = None) -> np.ndarray:
    """Decode an image as 8-bit BGR; ``AdapterError`` naming ``where`` (default: the file) if it fails."""
    place = where or str(path)
    if not path.is_file():
        raise AdapterError(f"{place}: image file {path} not found")
    data = np.fromfile(path, dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise AdapterError(f"{place}: cannot read image {path.name} (expected a JPEG, PNG, BMP, TIFF or WebP file)")
    return image


def write_png(folder: Path, item_id: str, image: np.ndarray) -> str:
    """Write ``folder/images/<id>.png`` and return the path relative to ``folder``."""
    relative = f"images/{item_id}.png"
    target = folder / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(target), image):
        raise OSError(f"{target}: could not write image")
    return relative


def require_folder(path: Path, what: str) -> None:
    if not path.is_dir():
        raise AdapterError(f"{path}: {what} folder not found")
