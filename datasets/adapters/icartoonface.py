"""``icartoonface``: the official recognition layout.

``root/<images_dir>/...`` holds the pictures and each label file
(``root/*.txt`` unless ``label_files`` names them) has one face per line::

    filename x1 y1 x2 y2 label_id

(spaces or commas; ``filename`` relative to the images folder; ``label_id``
``-1`` when the face belongs to no identity). Each face is cropped with the
"enlarged rate" around its box: rate ``r`` extends every side by ``r*w/2``
horizontally and ``r*h/2`` vertically, so ``r = 1`` crops twice the box width
and height. The crop is clamped to the picture and the box is stored in crop
coordinates.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import Field
from tqdm import tqdm

from datasets.adapters import AdapterError, register_adapter
from datasets.adapters.image_files import opaque_id, read_image, require_folder, write_png
from datasets.components import Params
from datasets.manifest import ManifestItem

Box = tuple[int, int, int, int]
FIELDS = ("filename", "x1", "y1", "x2", "y2", "label_id")


class ICartoonFaceOptions(Params):
    enlarged_rate: float = Field(0.5, ge=0)
    images_dir: str = "images"
    label_files: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class FaceLine:
    where: str
    filename: str
    box: Box
    identity: str


@register_adapter("icartoonface", tasks=("identification_verification",), params=ICartoonFaceOptions)
def read_icartoonface(
    root: Path, options: ICartoonFaceOptions, classes: list[str], folder: Path
) -> list[ManifestItem]:
    require_folder(root, "dataset")
    images_root = root / options.images_dir
    require_folder(images_root, "images")
    faces = [face for label_file in _label_files(root, options) for face in parse_label_file(label_file)]
    items: list[ManifestItem] = []
    seen: dict[str, str] = {}
    cached_name, cached_image = "", np.zeros((0, 0, 3), np.uint8)
    for face in tqdm(faces, desc="cropping faces", unit="face", disable=None):
        item_id = opaque_id("icartoonface", f"{face.filename}:{','.join(map(str, face.box))}")
        if item_id in seen:
            raise AdapterError(f"{face.where}: duplicate annotation (same file and box as {seen[item_id]})")
        seen[item_id] = face.where
        if face.filename != cached_name:
            cached_name, cached_image = face.filename, read_image(images_root / face.filename, face.where)
        crop, box = crop_face(cached_image, face.box, options.enlarged_rate, face.where)
        items.append(ManifestItem(id=item_id, path=write_png(folder, item_id, crop), identity=face.identity, box=box))
    if not items:
        raise AdapterError(f"{root}: the label files hold no faces")
    return items


def _label_files(root: Path, options: ICartoonFaceOptions) -> list[Path]:
    if options.label_files:
        files = [root / name for name in options.label_files]
        for path in files:
            if not path.is_file():
                raise AdapterError(f"{path}: label file not found (named in dataset.options.label_files)")
        return files
    files = sorted(path for path in root.glob("*.txt") if path.is_file())
    if not files:
        raise AdapterError(f"{root}: no label files (expected *.txt with lines 'filename x1 y1 x2 y2 label_id')")
    return files


def parse_label_file(path: Path) -> list[FaceLine]:
    """Every face in a label file; blank lines and ``#`` comments are skipped."""
    faces = []
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
        text = line.strip()
        if text and not text.startswith("#"):
            faces.append(parse_label_line(text, f"{path}:{number}"))
    return faces


def parse_label_line(text: str, where: str) -> FaceLine:
    fields = re.split(r"[\s,]+", text)
    if len(fields) != len(FIELDS):
        raise AdapterError(f"{where}: expected {len(FIELDS)} fields ({' '.join(FIELDS)}), got {len(fields)}: {text!r}")
    numbers = []
    for name, value in zip(FIELDS[1:], fields[1:]):
        try:
            numbers.append(int(value))
        except ValueError:
            raise AdapterError(f"{where}: {name} must be an integer, got {value!r}") from None
    x1, y1, x2, y2, label = numbers
    if x2 <= x1 or y2 <= y1:
        raise AdapterError(f"{where}: empty box ({x1}, {y1}, {x2}, {y2}); expected x2 > x1 and y2 > y1")
    if label < -1:
        raise AdapterError(f"{where}: label_id must be -1 (no identity) or >= 0, got {label}")
    return FaceLine(where, fields[0], (x1, y1, x2, y2), str(label))


def enlarged_crop(box: Box, rate: float, width: int, height: int) -> Box:
    """Crop rectangle ``(x1, y1, x2, y2)`` around ``box`` enlarged by ``rate``, clamped to the image.

    Fractional edges are rounded outwards so the crop never cuts the enlarged area.
    """
    x1, y1, x2, y2 = box
    pad_x, pad_y = rate * (x2 - x1) / 2, rate * (y2 - y1) / 2
    return (
        max(0, math.floor(x1 - pad_x)),
        max(0, math.floor(y1 - pad_y)),
        min(width, math.ceil(x2 + pad_x)),
        min(height, math.ceil(y2 + pad_y)),
    )


def crop_face(image: np.ndarray, box: Box, rate: float, where: str) -> tuple[np.ndarray, Box]:
    """The enlarged crop and the face box in crop coordinates (box clamped to the image first)."""
    height, width = image.shape[:2]
    x1, y1, x2, y2 = max(0, box[0]), max(0, box[1]), min(width, box[2]), min(height, box[3])
    if x2 <= x1 or y2 <= y1:
        raise AdapterError(f"{where}: box {box} lies outside the {width}x{height} image")
    cx1, cy1, cx2, cy2 = enlarged_crop((x1, y1, x2, y2), rate, width, height)
    crop = np.ascontiguousarray(image[cy1:cy2, cx1:cx2])
    return crop, (x1 - cx1, y1 - cy1, x2 - cx1, y2 - cy1)
