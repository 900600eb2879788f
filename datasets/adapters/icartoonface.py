"""``icartoonface``: the iCartoonFace recognition release, exactly as published.

Under ``root``::

    personai_icartoonface_rectrain/icartoonface_rectrain/<identity>/<image>.jpg
    personai_icartoonface_rectrain/icartoonface_rectrain_det.txt
        relpath<TAB>x1<TAB>y1<TAB>x2<TAB>y2      (relpath = <identity>/<image>.jpg)
    personai_icartoonface_rectest/icartoonface_rectest/<image>.jpg
    personai_icartoonface_rectest/icartoonface_rectest_info.txt   (or icartoonface_rectest_info.txt at the root)
        path x1 y1 x2 y2 label_id                (one line per test image; -1 = no identity)
        probe_path gallery_path                  (the official pairs, in the evaluation copy)

The test label file is a separate download; it is read from inside
``personai_icartoonface_rectest/`` or, where third-party loaders keep it,
from the release root.

Fields are separated by tabs or spaces. A training face's identity is its
folder; a test face's identity is its ``label_id`` (``-1``: a distractor).
Each face is cropped with the "enlarged rate" around its box: rate ``r``
extends every side by ``r*w/2`` horizontally and ``r*h/2`` vertically, so the
paper's ``r = 1`` crops twice the box width and height around its centre
(``datasets.face_crop``, which the synthetic faces share). The crop is
clamped to the picture and the box is stored in crop coordinates.

``protocol: official`` marks each item with its published role in ``split``
(``train``, ``probe``, ``gallery``, ``distractor``, or ``test`` for a labelled
test face in no pair), which the ``icartoonface_official`` split method turns
into the protocol; ``constructed`` leaves the split to ``face_identities``.
Anything incomplete or different fails with the file, the line and what was
expected; nothing is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field
from tqdm import tqdm

from datasets.adapters.base import AdapterError, register_adapter
from datasets.adapters.image_files import opaque_id, read_image, require_folder, write_png
from datasets.components import Params
from datasets.face_crop import Box, crop_enlarged
from datasets.manifest import ManifestItem

TRAIN_DIR = "personai_icartoonface_rectrain"
TRAIN_IMAGES = f"{TRAIN_DIR}/icartoonface_rectrain"
TRAIN_DET = f"{TRAIN_DIR}/icartoonface_rectrain_det.txt"
TEST_DIR = "personai_icartoonface_rectest"
TEST_IMAGES = f"{TEST_DIR}/icartoonface_rectest"
TEST_INFO_NAME = "icartoonface_rectest_info.txt"
TEST_INFO_PLACES = (f"{TEST_DIR}/{TEST_INFO_NAME}", TEST_INFO_NAME)
DET_FIELDS = ("relpath", "x1", "y1", "x2", "y2")
INFO_FIELDS = ("path", "x1", "y1", "x2", "y2", "label_id")
NO_IDENTITY = "-1"
ROLES = ("train", "probe", "gallery", "distractor", "test")


class ICartoonFaceOptions(Params):
    enlarged_rate: float = Field(1.0, ge=0)
    protocol: Literal["constructed", "official"] = "constructed"


@dataclass(frozen=True)
class FaceLine:
    where: str
    images: Path
    filename: str
    box: Box
    identity: str
    role: str = ""


@register_adapter("icartoonface", tasks=("identification_verification",), params=ICartoonFaceOptions)
def read_icartoonface(
    root: Path, options: ICartoonFaceOptions, classes: list[str], folder: Path
) -> list[ManifestItem]:
    for relative in (TRAIN_DIR, TRAIN_IMAGES, TEST_DIR, TEST_IMAGES):
        require_folder(root / relative, "iCartoonFace release")
    train = parse_det_file(_label_file(root / TRAIN_DET), root / TRAIN_IMAGES)
    test_info = find_test_info(root)
    test, pairs = parse_info_file(test_info, root / TEST_IMAGES)
    if options.protocol == "official":
        train = [replace(face, role="train") for face in train]
        test = official_roles(test, pairs, test_info)
    return crop_all(train + test, options.enlarged_rate, folder)


def _label_file(path: Path) -> Path:
    if not path.is_file():
        raise AdapterError(f"{path}: label file of the iCartoonFace release not found")
    return path


def find_test_info(root: Path) -> Path:
    """The test label file: inside the test folder as published, else at the release root (the first found)."""
    for relative in TEST_INFO_PLACES:
        if (root / relative).is_file():
            return root / relative
    places = " or ".join(str(root / relative) for relative in TEST_INFO_PLACES)
    raise AdapterError(f"{places}: test label file of the iCartoonFace release not found (it is a separate download; put it in either place)")


def crop_all(faces: list[FaceLine], rate: float, folder: Path) -> list[ManifestItem]:
    items: list[ManifestItem] = []
    seen: dict[str, str] = {}
    cached_path, cached_image = Path(), np.zeros((0, 0, 3), np.uint8)
    for face in tqdm(faces, desc="cropping faces", unit="face", disable=None):
        item_id = opaque_id("icartoonface", f"{face.images.name}/{face.filename}:{','.join(map(str, face.box))}")
        if item_id in seen:
            raise AdapterError(f"{face.where}: duplicate annotation (same file and box as {seen[item_id]})")
        seen[item_id] = face.where
        path = face.images / face.filename
        if path != cached_path:
            cached_path, cached_image = path, read_image(path, face.where)
        crop, box = crop_face(cached_image, face.box, rate, face.where)
        items.append(ManifestItem(id=item_id, path=write_png(folder, item_id, crop), split=face.role,
                                  identity=face.identity, box=box))
    return items


def _lines(path: Path) -> list[tuple[str, list[str]]]:
    """``(where, fields)`` of every non-blank line, fields split on tabs or spaces."""
    return [(f"{path}:{number}", re.split(r"\s+", line.strip()))
            for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1) if line.strip()]


def _box(fields: list[str], names: tuple[str, ...], where: str) -> Box:
    numbers = []
    for name, value in zip(names, fields):
        try:
            numbers.append(int(round(float(value))))
        except ValueError:
            raise AdapterError(f"{where}: {name} must be a number, got {value!r}") from None
    x1, y1, x2, y2 = numbers
    if x2 <= x1 or y2 <= y1:
        raise AdapterError(f"{where}: empty box ({x1}, {y1}, {x2}, {y2}); expected x2 > x1 and y2 > y1")
    return x1, y1, x2, y2


def parse_det_file(path: Path, images: Path) -> list[FaceLine]:
    """Training faces: ``relpath x1 y1 x2 y2``, identity = the first folder of ``relpath``."""
    faces = []
    for where, fields in _lines(path):
        if len(fields) != len(DET_FIELDS):
            raise AdapterError(f"{where}: expected {len(DET_FIELDS)} tab-separated fields "
                               f"({' '.join(DET_FIELDS)}), got {len(fields)}")
        relpath = fields[0].removeprefix(f"{images.name}/")
        parts = Path(relpath).parts
        if len(parts) != 2:
            raise AdapterError(f"{where}: relpath {fields[0]!r} must be <identity>/<image>")
        faces.append(FaceLine(where, images, relpath, _box(fields[1:], DET_FIELDS[1:], where), parts[0]))
    if not faces:
        raise AdapterError(f"{path}: holds no faces (expected lines 'relpath x1 y1 x2 y2')")
    return faces


def parse_info_file(path: Path, images: Path) -> tuple[list[FaceLine], list[tuple[str, str, str]]]:
    """Test faces (six fields) and the official pairs (two fields: ``probe gallery``, with where)."""
    faces: list[FaceLine] = []
    pairs: list[tuple[str, str, str]] = []
    for where, fields in _lines(path):
        if len(fields) == 2:
            pairs.append((where, fields[0], fields[1]))
        elif len(fields) == len(INFO_FIELDS):
            label = fields[5]
            if not re.fullmatch(r"-1|\d+", label):
                raise AdapterError(f"{where}: label_id must be -1 (no identity) or an integer >= 0, got {label!r}")
            faces.append(FaceLine(where, images, fields[0], _box(fields[1:5], INFO_FIELDS[1:5], where), label))
        else:
            raise AdapterError(f"{where}: expected {len(INFO_FIELDS)} fields ({' '.join(INFO_FIELDS)}) "
                               f"or 2 (probe_path gallery_path), got {len(fields)}")
    if not faces:
        raise AdapterError(f"{path}: holds no test faces (expected lines 'path x1 y1 x2 y2 label_id')")
    return faces, pairs


def official_roles(faces: list[FaceLine], pairs: list[tuple[str, str, str]], path: Path) -> list[FaceLine]:
    """Test faces with their published role; every pair is checked against the face lines."""
    if not pairs:
        raise AdapterError(f"{path}: no 'probe_path gallery_path' lines; the official protocol needs the "
                           "evaluation copy of the file, which lists the probe/gallery pairs")
    by_path: dict[str, FaceLine] = {}
    for face in faces:
        if face.filename in by_path:
            raise AdapterError(f"{face.where}: {face.filename} is listed twice (first at {by_path[face.filename].where})")
        by_path[face.filename] = face
    roles: dict[str, str] = {}
    gallery_of: dict[str, tuple[str, str]] = {}
    for where, probe, gallery in pairs:
        for name in (probe, gallery):
            if name not in by_path:
                raise AdapterError(f"{where}: pair names {name!r}, which has no 'path x1 y1 x2 y2 label_id' line")
        identity = by_path[probe].identity
        if identity == NO_IDENTITY or by_path[gallery].identity != identity:
            raise AdapterError(f"{where}: probe {probe!r} (label {identity}) and gallery {gallery!r} (label "
                               f"{by_path[gallery].identity}) must share one label_id other than -1")
        earlier = gallery_of.setdefault(identity, (gallery, where))
        if earlier[0] != gallery:
            raise AdapterError(f"{where}: label {identity} has gallery {gallery!r} here but {earlier[0]!r} at "
                               f"{earlier[1]}; expected one gallery image per identity")
        if probe == gallery:
            raise AdapterError(f"{where}: probe and gallery are the same image {probe!r}")
        for name, role in ((probe, "probe"), (gallery, "gallery")):
            if roles.setdefault(name, role) != role:
                raise AdapterError(f"{where}: {name!r} is both a probe and a gallery image")
    return [replace(face, role=roles.get(face.filename, "distractor" if face.identity == NO_IDENTITY else "test"))
            for face in faces]


def crop_face(image: np.ndarray, box: Box, rate: float, where: str) -> tuple[np.ndarray, Box]:
    """The enlarged crop and the face box in crop coordinates; a box outside the image is an error."""
    height, width = image.shape[:2]
    x1, y1, x2, y2 = box
    if x1 < 0 or y1 < 0 or x2 > width or y2 > height:
        raise AdapterError(f"{where}: box {box} lies outside the {width}x{height} image; expected "
                           f"0 <= x1 < x2 <= {width} and 0 <= y1 < y2 <= {height}")
    return crop_enlarged(image, box, rate)
