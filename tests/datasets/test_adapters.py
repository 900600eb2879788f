"""Adapters read real layouts written here file by file, including broken ones."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from datasets.adapters import ADAPTERS, AdapterError
from datasets.face_crop import enlarged_crop
from datasets.build import build_benchmark
from datasets.spec import load_spec


def run_adapter(name: str, root: Path, folder: Path, options: dict | None = None, classes: list[str] | None = None):
    adapter = ADAPTERS.get(name)
    params = adapter.params_model.model_validate(options or {})
    folder.mkdir(parents=True, exist_ok=True)
    return adapter.fn(root, params, classes or [], folder)


def write_image(path: Path, width: int = 12, height: int = 10, seed: int = 0) -> np.ndarray:
    image = np.random.default_rng(seed).integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image)
    return image


def write_garbage(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not a JPEG at all")


# --- folder_per_class ----------------------------------------------------------

@pytest.fixture
def class_tree(tmp_path: Path) -> Path:
    root = tmp_path / "toonnet"
    for index, name in enumerate(["cat/001.png", "cat/002.jpg", "winnie bear/a.png", "dog/x.bmp"]):
        write_image(root / name, width=8 + index, seed=index)
    return root


def test_folder_per_class_reads_every_class_into_opaque_png_items(class_tree: Path, tmp_path: Path) -> None:
    folder = tmp_path / "built"
    items = run_adapter("folder_per_class", class_tree, folder, classes=["cat", "dog", "winnie bear"])
    assert sorted(item.label for item in items) == ["cat", "cat", "dog", "winnie bear"]
    for item in items:
        assert re.fullmatch(r"[0-9a-f]{16}", item.id)
        assert item.path == f"images/{item.id}.png"
        assert cv2.imread(str(folder / item.path)) is not None
    source = cv2.imread(str(class_tree / "cat/001.png"))
    copies = [cv2.imread(str(folder / item.path)) for item in items if item.label == "cat"]
    assert any(copy.shape == source.shape and np.array_equal(copy, source) for copy in copies)


def test_folder_per_class_gives_the_same_ids_on_every_run(class_tree: Path, tmp_path: Path) -> None:
    classes = ["cat", "dog", "winnie bear"]
    first = run_adapter("folder_per_class", class_tree, tmp_path / "a", classes=classes)
    second = run_adapter("folder_per_class", class_tree, tmp_path / "b", classes=classes)
    assert [i.id for i in first] == [i.id for i in second]
    assert len({i.id for i in first}) == 4


def test_folder_per_class_reads_only_the_listed_extensions(class_tree: Path, tmp_path: Path) -> None:
    items = run_adapter("folder_per_class", class_tree, tmp_path / "b", {"extensions": ["PNG", "bmp"]},
                        classes=["cat", "dog", "winnie bear"])
    assert sorted(item.label for item in items) == ["cat", "dog", "winnie bear"]


def test_folder_per_class_rejects_a_missing_class_folder(class_tree: Path, tmp_path: Path) -> None:
    with pytest.raises(AdapterError, match=re.escape(f"{class_tree / 'panda'}: missing folder for class 'panda'")):
        run_adapter("folder_per_class", class_tree, tmp_path / "b", classes=["cat", "dog", "winnie bear", "panda"])


def test_folder_per_class_rejects_an_empty_class_folder(class_tree: Path, tmp_path: Path) -> None:
    (class_tree / "panda").mkdir()
    (class_tree / "panda" / "notes.txt").write_text("no images here")
    with pytest.raises(AdapterError, match=re.escape(f"{class_tree / 'panda'}: class 'panda' has no images")):
        run_adapter("folder_per_class", class_tree, tmp_path / "b", classes=["cat", "dog", "winnie bear", "panda"])


def test_folder_per_class_rejects_a_folder_that_is_no_class(class_tree: Path, tmp_path: Path) -> None:
    with pytest.raises(AdapterError, match=re.escape(f"{class_tree / 'dog'}: folder 'dog' is not a class")):
        run_adapter("folder_per_class", class_tree, tmp_path / "b", classes=["cat", "winnie bear"])


def test_folder_per_class_names_an_unreadable_image(class_tree: Path, tmp_path: Path) -> None:
    write_garbage(class_tree / "dog" / "broken.jpg")
    with pytest.raises(AdapterError, match=re.escape(f"{class_tree / 'dog' / 'broken.jpg'}: cannot read image")):
        run_adapter("folder_per_class", class_tree, tmp_path / "b", classes=["cat", "dog", "winnie bear"])


def test_folder_per_class_rejects_a_missing_root(tmp_path: Path) -> None:
    with pytest.raises(AdapterError, match="dataset folder not found"):
        run_adapter("folder_per_class", tmp_path / "nowhere", tmp_path / "b", classes=["cat", "dog"])


# --- icartoonface ----------------------------------------------------------------

def test_enlarged_crop_matches_hand_computed_rectangles() -> None:
    # box 40x20, rate 0.5: each side grows by 0.5*40/2 = 10 and 0.5*20/2 = 5
    assert enlarged_crop((20, 30, 60, 50), 0.5, 100, 80) == (10, 25, 70, 55)
    # rate 1: twice the box size (30x20 box -> 60x40 crop)
    assert enlarged_crop((30, 30, 60, 50), 1.0, 100, 80) == (15, 20, 75, 60)
    # clamped to the 100x80 image
    assert enlarged_crop((5, 10, 45, 40), 1.0, 100, 80) == (0, 0, 65, 55)
    # fractional edges rounded outwards: pad 1.25
    assert enlarged_crop((10, 10, 15, 15), 0.5, 100, 100) == (8, 8, 17, 17)
    assert enlarged_crop((10, 10, 15, 15), 0.0, 100, 100) == (10, 10, 15, 15)


def test_icartoonface_rejects_a_negative_enlarged_rate() -> None:
    with pytest.raises(ValueError):
        ADAPTERS.get("icartoonface").params_model.model_validate({"enlarged_rate": -0.1})


# --- real data through the whole build ------------------------------------------------

def test_a_real_class_tree_builds_into_a_stratified_benchmark(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    classes = load_spec("toonnet").classes
    for index, name in enumerate(classes):
        for image in range(4):
            write_image(tmp_path / "real" / "toonnet" / name / f"{image}.jpg", seed=index * 10 + image)
    monkeypatch.setenv("TOONBENCH_DATA", str(tmp_path / "real"))
    built = build_benchmark("toonnet", tmp_path / "built", profile="tiny", source="auto")
    assert built.source == "real"
    assert len(built.items) == 48
    for name in classes:  # round(4 * 0.3) = 1 test image per class
        assert [i.split for i in built.items if i.label == name].count("test") == 1
