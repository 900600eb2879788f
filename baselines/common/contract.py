"""The container side of the contract (DESIGN.md §3): read /input, write /output."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np


@dataclass(frozen=True)
class InputItem:
    id: str
    path: str
    box: tuple[int, int, int, int] | None = None


@dataclass(frozen=True)
class InputManifest:
    folder: Path
    task: str
    items: list[InputItem]
    classes: list[str]

    def image_path(self, item: InputItem) -> Path:
        return self.folder / item.path


def read_input(input_dir: Path) -> InputManifest:
    """Read ``<input_dir>/manifest.json``; errors name the file and the field."""
    path = Path(input_dir) / "manifest.json"
    if not path.exists():
        raise FileNotFoundError(f"{path}: no manifest.json in the input folder")
    record = json.loads(path.read_text())
    if not isinstance(record.get("items"), list):
        raise ValueError(f"{path}: field 'items' must be a list of {{id, path}} objects")
    items = []
    for index, entry in enumerate(record["items"]):
        if "id" not in entry or "path" not in entry:
            raise ValueError(f"{path}: items.{index} needs 'id' and 'path'")
        box = entry.get("box")
        items.append(InputItem(str(entry["id"]), str(entry["path"]), None if box is None else tuple(int(v) for v in box)))
    return InputManifest(Path(input_dir), str(record.get("task", "")), items, [str(c) for c in record.get("classes", [])])


def read_rgb(path: Path) -> np.ndarray:
    """An image file as uint8 RGB ``[H, W, 3]``."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"{path}: not a readable image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def write_rgb(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
        raise OSError(f"{path}: could not write the image")


def write_scores(output_dir: Path, scores: np.ndarray) -> Path:
    return _write_array(output_dir, "scores.npy", scores)


def write_embeddings(output_dir: Path, embeddings: np.ndarray) -> Path:
    return _write_array(output_dir, "embeddings.npy", embeddings)


def _write_array(output_dir: Path, name: str, values: np.ndarray) -> Path:
    values = np.ascontiguousarray(values, dtype=np.float32)
    if values.ndim != 2 or not np.isfinite(values).all():
        raise ValueError(f"{name}: expected a finite 2-D array, got shape {values.shape}")
    Path(output_dir).mkdir(parents=True, exist_ok=True)
    path = Path(output_dir) / name
    np.save(path, values)
    return path


def reorder_columns(scores: np.ndarray, trained_classes: list[str], wanted_classes: list[str]) -> np.ndarray:
    """Put score columns in the order the input manifest names the classes."""
    if not wanted_classes:
        return scores
    missing = sorted(set(wanted_classes) - set(trained_classes))
    if missing:
        raise ValueError(f"manifest.json: classes {missing} were not in the training data ({trained_classes})")
    return scores[:, [trained_classes.index(name) for name in wanted_classes]]
