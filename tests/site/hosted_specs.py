"""A host's uploaded benchmark for the tests: a two-class spec and a tiny folder_per_class dataset."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from PIL import Image

CLASSES = ["car", "cat"]
IMAGES_PER_CLASS = 6


def spec_document(slug: str = "shapes", **changes: Any) -> dict[str, Any]:
    """A valid classification spec for uploaded folder_per_class data; ``changes`` replace top-level keys."""
    document: dict[str, Any] = {
        "slug": slug,
        "title": "Two cartoon shapes",
        "version": 1,
        "task": "classification",
        "summary": "A host's two-class benchmark.",
        "classes": CLASSES,
        "dataset": {"adapter": "folder_per_class", "synthetic": {"generator": "toon_objects", "seed": 0,
                                                                 "per_class": 4, "size": 32}},
        "split": {"method": "stratified", "test_fraction": 0.5, "seed": 0},
        "metrics": [{"name": "top1_error", "fn": "topk_error", "k": 1, "higher_is_better": False}],
        "leaderboard": {"rank_by": "top1_error"},
    }
    document.update(changes)
    return document


def spec_bytes(document: dict[str, Any]) -> bytes:
    return yaml.safe_dump(document, sort_keys=False).encode()


def write_dataset(folder: Path) -> Path:
    """``folder/<class>/<n>.png``: small distinct images, one folder per class."""
    rng = np.random.default_rng(0)
    for name in CLASSES:
        (folder / name).mkdir(parents=True)
        for index in range(IMAGES_PER_CLASS):
            pixels = rng.integers(0, 256, size=(16, 16, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / name / f"{index}.png")
    return folder


def dataset_zip(folder: Path) -> bytes:
    """The dataset written by ``write_dataset`` as a zip, paths relative to ``folder``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*.png")):
            archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()
