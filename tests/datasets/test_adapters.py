"""Adapters read real layouts written here file by file, including broken ones."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from datasets.adapters import ADAPTERS, AdapterError
from datasets.adapters.icartoonface import enlarged_crop
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


@pytest.fixture
def face_tree(tmp_path: Path) -> Path:
    root = tmp_path / "icartoonface"
    write_image(root / "images" / "naruto" / "0001.png", width=100, height=80, seed=1)
    write_image(root / "images" / "0002.png", width=50, height=40, seed=2)
    (root / "train.txt").write_text(
        "naruto/0001.png 20 30 60 50 7\n"
        "\n"
        "naruto/0001.png,5,10,45,40,-1\n"
        "0002.png 10 10 40 30 7\n"
    )
    return root


def test_icartoonface_crops_faces_with_the_enlarged_rate(face_tree: Path, tmp_path: Path) -> None:
    folder = tmp_path / "built"
    items = run_adapter("icartoonface", face_tree, folder, {"enlarged_rate": 0.5})
    source = cv2.imread(str(face_tree / "images" / "naruto" / "0001.png"))
    by_box = {item.box: item for item in items}
    # first face: crop (10, 25, 70, 55) -> box (10, 5, 50, 25) in the crop
    first = by_box[(10, 5, 50, 25)]
    assert first.identity == "7"
    assert np.array_equal(cv2.imread(str(folder / first.path)), source[25:55, 10:70])
    # second face: 40x30 box, pads 10 and 7.5 -> crop (0, 2, 55, 48) -> box (5, 8, 45, 38)
    second = by_box[(5, 8, 45, 38)]
    assert second.identity == "-1"
    assert np.array_equal(cv2.imread(str(folder / second.path)), source[2:48, 0:55])
    # third face: 30x20 box in a 50x40 image, pads 7.5 and 5 -> crop (2, 5, 48, 35) -> box (8, 5, 38, 25)
    assert by_box[(8, 5, 38, 25)].identity == "7"
    assert len({item.id for item in items}) == 3


def test_icartoonface_default_rate_is_one_half(face_tree: Path, tmp_path: Path) -> None:
    items = run_adapter("icartoonface", face_tree, tmp_path / "built")
    assert (10, 5, 50, 25) in {item.box for item in items}


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("0002.png 10 10 40 7", "expected 6 fields"),
        ("0002.png 10 10 40 30 7 extra", "expected 6 fields"),
        ("0002.png 10 ten 40 30 7", "y1 must be an integer, got 'ten'"),
        ("0002.png 10 10 40 30 seven", "label_id must be an integer"),
        ("0002.png 40 10 40 30 7", "empty box (40, 10, 40, 30)"),
        ("0002.png 10 10 40 30 -3", "label_id must be -1"),
        ("0002.png 60 50 90 70 7", "lies outside the 50x40 image"),
        ("missing.png 10 10 40 30 7", "not found"),
    ],
)
def test_icartoonface_names_the_file_and_line_of_a_bad_annotation(
    face_tree: Path, tmp_path: Path, line: str, problem: str
) -> None:
    label_file = face_tree / "train.txt"
    label_file.write_text(label_file.read_text() + line + "\n")
    with pytest.raises(AdapterError, match=re.escape(f"{label_file}:5: ") + ".*" + re.escape(problem)):
        run_adapter("icartoonface", face_tree, tmp_path / "built")


def test_icartoonface_names_the_line_of_an_unreadable_image(face_tree: Path, tmp_path: Path) -> None:
    write_garbage(face_tree / "images" / "garbage.jpg")
    label_file = face_tree / "train.txt"
    label_file.write_text("garbage.jpg 1 1 5 5 3\n")
    with pytest.raises(AdapterError, match=re.escape(f"{label_file}:1: cannot read image garbage.jpg")):
        run_adapter("icartoonface", face_tree, tmp_path / "built")


def test_icartoonface_reads_only_the_named_label_files(face_tree: Path, tmp_path: Path) -> None:
    (face_tree / "other.txt").write_text("0002.png 1 1 5 5 9\n")
    items = run_adapter("icartoonface", face_tree, tmp_path / "built", {"label_files": ["other.txt"]})
    assert [item.identity for item in items] == ["9"]
    with pytest.raises(AdapterError, match=re.escape(f"{face_tree / 'absent.txt'}: label file not found")):
        run_adapter("icartoonface", face_tree, tmp_path / "again", {"label_files": ["absent.txt"]})


def test_icartoonface_rejects_a_root_without_label_files(tmp_path: Path) -> None:
    root = tmp_path / "icartoonface"
    (root / "images").mkdir(parents=True)
    with pytest.raises(AdapterError, match=re.escape(f"{root}: no label files")):
        run_adapter("icartoonface", root, tmp_path / "built")


def test_icartoonface_rejects_a_negative_enlarged_rate() -> None:
    with pytest.raises(ValueError):
        ADAPTERS.get("icartoonface").params_model.model_validate({"enlarged_rate": -0.1})


# --- cartoonization -----------------------------------------------------------------

@pytest.fixture
def domain_tree(tmp_path: Path) -> Path:
    root = tmp_path / "cartoonization"
    write_image(root / "photos" / "beach.jpg", 16, 12, seed=1)
    write_image(root / "photos" / "city.png", 16, 12, seed=2)
    write_image(root / "cartoons" / "frame_001.png", 20, 10, seed=3)
    return root


def test_cartoonization_reads_photos_and_cartoons_with_their_domain(domain_tree: Path, tmp_path: Path) -> None:
    folder = tmp_path / "built"
    items = run_adapter("cartoonization", domain_tree, folder)
    assert sorted(item.domain for item in items) == ["cartoon", "photo", "photo"]
    cartoon = next(item for item in items if item.domain == "cartoon")
    assert np.array_equal(cv2.imread(str(folder / cartoon.path)), cv2.imread(str(domain_tree / "cartoons/frame_001.png")))


def test_cartoonization_rejects_a_missing_domain_folder(domain_tree: Path, tmp_path: Path) -> None:
    for path in (domain_tree / "cartoons").iterdir():
        path.unlink()
    (domain_tree / "cartoons").rmdir()
    with pytest.raises(AdapterError, match=re.escape(f"{domain_tree / 'cartoons'}: cartoon images folder not found")):
        run_adapter("cartoonization", domain_tree, tmp_path / "built")


def test_cartoonization_rejects_an_empty_domain_folder(domain_tree: Path, tmp_path: Path) -> None:
    (domain_tree / "photos" / "beach.jpg").unlink()
    (domain_tree / "photos" / "city.png").unlink()
    with pytest.raises(AdapterError, match=re.escape(f"{domain_tree / 'photos'}: no photo images")):
        run_adapter("cartoonization", domain_tree, tmp_path / "built")


def test_cartoonization_names_an_unreadable_image(domain_tree: Path, tmp_path: Path) -> None:
    write_garbage(domain_tree / "cartoons" / "broken.jpg")
    with pytest.raises(AdapterError, match=re.escape(f"{domain_tree / 'cartoons' / 'broken.jpg'}: cannot read image")):
        run_adapter("cartoonization", domain_tree, tmp_path / "built")


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


def test_a_real_face_tree_builds_into_a_face_protocol(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "real" / "icartoonface"
    lines = []
    for identity in range(50):
        for image in range(4):
            name = f"c{identity:03d}/{image}.png"
            write_image(root / "images" / name, width=40, height=40, seed=identity * 7 + image)
            lines.append(f"{name} 10 10 30 30 {identity}")
    (root / "train.txt").write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("TOONBENCH_DATA", str(tmp_path / "real"))
    built = build_benchmark("icartoonface", tmp_path / "built", profile="tiny", source="real")
    # tiny profile: scale 0.01 -> 20 probe identities (10 seen), 25 distractors, 30 + 30 pairs
    assert len(built.items) == 200
    assert len(built.roles.pairs) == 60
    assert {item.box for item in built.items} == {(5, 5, 25, 25)}  # rate 0.5 on a 20x20 box: pad 5
    assert len(built.roles.gallery) == 20 + 25 * 4
