"""The illustration and cartoonization releases, laid out exactly as published, built from real image files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from datasets.adapters import ADAPTERS, AdapterError
from datasets.adapters.image_files import opaque_id
from datasets.build import build_benchmark
from datasets.manifest import ManifestItem
from datasets.protocol import SPLIT_METHODS
from datasets.spec import load_spec
from evaluator.bundle import public_manifest_bytes
from evaluator.contract import container_manifest
from evaluator.tasks import task_of

ILLUSTRATION_CLASSES = load_spec("illustration").classes
TRAIN_PER_CLASS, VAL_PER_CLASS = 3, 2


def write_image(path: Path, width: int, height: int, seed: int) -> np.ndarray:
    image = np.random.default_rng(seed).integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image)
    return image


def run_adapter(name: str, root: Path, folder: Path, options: dict, classes: list[str]) -> list[ManifestItem]:
    adapter = ADAPTERS.get(name)
    folder.mkdir(parents=True, exist_ok=True)
    return adapter.fn(root, adapter.params_model.model_validate(options), classes, folder)


# --- illustration: curated/train + curated/val ----------------------------------------

@pytest.fixture
def illustration_root(tmp_path: Path) -> Path:
    """``illustration/curated/{train,val}/<class>/*.jpg``; returns the data root holding ``illustration/``."""
    data = tmp_path / "real"
    for index, name in enumerate(ILLUSTRATION_CLASSES):
        for number in range(TRAIN_PER_CLASS):
            write_image(data / "illustration/curated/train" / name / f"{name}_{number}.jpg", 20, 16, index * 10 + number)
        for number in range(VAL_PER_CLASS):
            write_image(data / "illustration/curated/val" / name / f"{name}_v{number}.png", 18, 14, 1000 + index * 10 + number)
    return data


def published_split_of(root: Path) -> dict[str, tuple[str, str]]:
    """Item id -> (split, class) as the tree on disk publishes them."""
    expected = {}
    for split, folder in (("train", "train"), ("test", "val")):
        for path in sorted((root / "illustration/curated" / folder).rglob("*.*")):
            relative = path.relative_to(root / "illustration").as_posix()
            expected[opaque_id("folder_per_class", relative)] = (split, path.parent.name)
    return expected


def test_a_real_illustration_build_keeps_the_published_split_exactly(
    illustration_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOONBENCH_DATA", str(illustration_root))
    built = build_benchmark("illustration", tmp_path / "built", source="real")
    assert built.source == "real"
    assert {item.id: (item.split, item.label) for item in built.items} == published_split_of(illustration_root)
    assert len(built.train_items()) == 23 * TRAIN_PER_CLASS and len(built.test_items()) == 23 * VAL_PER_CLASS
    for name in ILLUSTRATION_CLASSES:
        assert [item.split for item in built.items if item.label == name].count("test") == VAL_PER_CLASS
    lines = (built.folder / "manifest.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["split"] for line in lines).count("test") == 23 * VAL_PER_CLASS


def test_the_synthetic_illustration_stand_in_keeps_its_stratified_split() -> None:
    spec = load_spec("illustration")
    assert spec.split_for("synthetic").method == "stratified"
    assert spec.split_for("synthetic").params.test_fraction == 0.2
    assert spec.split_for("real").method == "published"
    assert spec.dataset.options.split_folders == {"train": "curated/train", "test": "curated/val"}


def test_toonnet_keeps_one_folder_per_class_and_a_random_70_30_split() -> None:
    spec = load_spec("toonnet")
    assert spec.dataset.options.split_folders == {}
    assert spec.split_for("real") == spec.split and spec.split.method == "stratified"
    assert spec.split.params.test_fraction == 0.3


def _read_illustration(data: Path, tmp_path: Path) -> list[ManifestItem]:
    options = load_spec("illustration").dataset.options.model_dump()
    return run_adapter("folder_per_class", data / "illustration", tmp_path / "built", options, ILLUSTRATION_CLASSES)


def test_a_release_without_curated_val_fails_naming_the_folder(illustration_root: Path, tmp_path: Path) -> None:
    val = illustration_root / "illustration/curated/val"
    val.rename(illustration_root / "illustration/curated/validation")
    with pytest.raises(AdapterError, match=re.escape(f"{val}: test split folder not found (expected "
                                                     "illustration/curated/val/<class name>/ as published)")):
        _read_illustration(illustration_root, tmp_path)


def test_a_class_in_train_but_not_in_val_fails(illustration_root: Path, tmp_path: Path) -> None:
    zebra = illustration_root / "illustration/curated/val/zebra"
    for path in zebra.iterdir():
        path.unlink()
    zebra.rmdir()
    with pytest.raises(AdapterError, match=re.escape(f"{zebra}: missing folder for class 'zebra' "
                                                     "(expected illustration/curated/val/<class name>/)")):
        _read_illustration(illustration_root, tmp_path)


def test_an_empty_val_class_folder_fails(illustration_root: Path, tmp_path: Path) -> None:
    harp = illustration_root / "illustration/curated/val/harp"
    for path in harp.iterdir():
        path.unlink()
    with pytest.raises(AdapterError, match=re.escape(f"{harp}: class 'harp' has no images")):
        _read_illustration(illustration_root, tmp_path)


def test_a_val_folder_that_is_no_class_fails(illustration_root: Path, tmp_path: Path) -> None:
    write_image(illustration_root / "illustration/curated/val/kettle/k.jpg", 8, 8, 5)
    with pytest.raises(AdapterError, match=re.escape(f"{illustration_root / 'illustration/curated/val/kettle'}: "
                                                     "folder 'kettle' is not a class")):
        _read_illustration(illustration_root, tmp_path)


def test_an_unreadable_val_image_fails_naming_it(illustration_root: Path, tmp_path: Path) -> None:
    broken = illustration_root / "illustration/curated/val/banjo/broken.jpg"
    broken.write_bytes(b"not a JPEG")
    with pytest.raises(AdapterError, match=re.escape(f"{broken}: cannot read image broken.jpg")):
        _read_illustration(illustration_root, tmp_path)


def test_split_folders_must_name_train_and_test() -> None:
    with pytest.raises(ValueError, match="expected one folder for each of train, test, got train"):
        ADAPTERS.get("folder_per_class").params_model.model_validate({"split_folders": {"train": "curated/train"}})


def test_the_published_split_refuses_items_without_a_published_split(tmp_path: Path) -> None:
    items = [ManifestItem(id="a1", path="images/a1.png", label="cat", split="train"),
             ManifestItem(id="b2", path="images/b2.png", label="cat")]
    with pytest.raises(ValueError, match="split: item b2 has no published split"):
        SPLIT_METHODS.get("published").fn(items, None, 0, tmp_path)


def test_the_published_split_refuses_a_test_class_never_trained(tmp_path: Path) -> None:
    items = [ManifestItem(id="a1", path="images/a1.png", label="cat", split="train"),
             ManifestItem(id="b2", path="images/b2.png", label="dog", split="test")]
    with pytest.raises(ValueError, match="split: classes dog are in the published test split but not in train"):
        SPLIT_METHODS.get("published").fn(items, None, 0, tmp_path)


def test_the_published_split_keeps_every_item_where_it_was_published(tmp_path: Path) -> None:
    items = [ManifestItem(id=f"i{n}", path=f"images/i{n}.png", label="cat", split=split)
             for n, split in enumerate(["test", "train", "train", "test", "train"])]
    splits = SPLIT_METHODS.get("published").fn(items, None, 0, tmp_path).splits
    assert splits == {"i0": "test", "i1": "train", "i2": "train", "i3": "test", "i4": "train"}


# --- cartoonization: White-box photo_face / photo_scenery / cartoon_face / cartoon_scenery ---

RELEASE = {  # relative path -> (domain, subset, width, height)
    "photo_face/person_a/0001.jpg": ("photo", "face", 300, 200),
    "photo_face/person_b/0002.png": ("photo", "face", 120, 160),
    "photo_face/0003.jpg": ("photo", "face", 256, 256),
    "photo_scenery/city/0004.jpg": ("photo", "scenery", 400, 300),
    "photo_scenery/0005.png": ("photo", "scenery", 200, 300),
    "photo_scenery/0006.jpg": ("photo", "scenery", 260, 260),
    "cartoon_face/kyoto/0001.png": ("cartoon", "face", 256, 256),
    "cartoon_face/pa_works/0002.jpg": ("cartoon", "face", 180, 240),
    "cartoon_face/0003.png": ("cartoon", "face", 300, 300),
    "cartoon_scenery/shinkai/0001.jpg": ("cartoon", "scenery", 512, 288),
    "cartoon_scenery/hayao/0002.png": ("cartoon", "scenery", 256, 256),
    "cartoon_scenery/0003.jpg": ("cartoon", "scenery", 320, 256),
}


@pytest.fixture
def cartoonization_root(tmp_path: Path) -> Path:
    root = tmp_path / "real" / "cartoonization"
    for index, (relative, (_, _, width, height)) in enumerate(RELEASE.items()):
        write_image(root / relative, width, height, index)
    return root


def test_a_real_cartoonization_build_reads_the_four_folders_recursively_at_256(
    cartoonization_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOONBENCH_DATA", str(cartoonization_root.parent))
    built = build_benchmark("cartoonization", tmp_path / "built", source="real")
    expected = {opaque_id("cartoonization", rel): (domain, subset) for rel, (domain, subset, _, _) in RELEASE.items()}
    assert {item.id: (item.domain, item.subset) for item in built.items} == expected
    for item in built.items:
        assert cv2.imread(str(built.folder / item.path)).shape == (256, 256, 3)
    # domain_holdout 0.3: round(6 * 0.3) = 2 test photos and 2 test cartoons
    assert sorted((item.domain, item.split) for item in built.items).count(("photo", "test")) == 2
    assert sorted((item.domain, item.split) for item in built.items).count(("cartoon", "test")) == 2
    assert json.loads((built.folder / "protocol.json").read_text())["fid_resolution"] == 256


def test_the_subset_never_reaches_the_container_or_the_public_test_entries(
    cartoonization_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOONBENCH_DATA", str(cartoonization_root.parent))
    built = build_benchmark("cartoonization", tmp_path / "built", source="real")
    document = container_manifest(built)
    assert len(document["items"]) == 2
    assert all(set(entry) == {"id", "path"} for entry in document["items"])
    assert "subset" not in json.dumps(document) and "scenery" not in json.dumps(document)
    task = task_of(built.spec)
    public = [json.loads(line) for line in public_manifest_bytes(task, built.train_items(), task.inputs(built)).splitlines()]
    assert all("subset" not in record for record in public if record["split"] == "test")
    assert {record["subset"] for record in public if record["split"] == "train"} == {"face", "scenery"}


def test_a_photo_is_centre_cropped_then_resized_to_256(cartoonization_root: Path, tmp_path: Path) -> None:
    items = run_adapter("cartoonization", cartoonization_root, tmp_path / "built", {}, [])
    source = cv2.imread(str(cartoonization_root / "photo_face/person_a/0001.jpg"))  # 300 x 200
    expected = cv2.resize(source[:, 50:250], (256, 256), interpolation=cv2.INTER_CUBIC)
    item = next(i for i in items if i.id == opaque_id("cartoonization", "photo_face/person_a/0001.jpg"))
    assert np.array_equal(cv2.imread(str(tmp_path / "built" / item.path)), expected)


def test_the_synthetic_stand_in_records_its_own_fid_resolution(tmp_path: Path) -> None:
    built = build_benchmark("cartoonization", tmp_path / "built", profile="tiny", source="synthetic")
    assert json.loads((built.folder / "protocol.json").read_text())["fid_resolution"] == 64
    assert all(item.subset is None for item in built.items)


def test_a_missing_release_folder_fails_naming_the_expected_folders(cartoonization_root: Path, tmp_path: Path) -> None:
    (cartoonization_root / "cartoon_scenery").rename(cartoonization_root / "scenery_cartoons")
    with pytest.raises(AdapterError, match=re.escape(
        f"{cartoonization_root / 'cartoon_scenery'}: folder not found (expected root/photo_face/, "
        "root/photo_scenery/, root/cartoon_face/ and root/cartoon_scenery/)"
    )):
        run_adapter("cartoonization", cartoonization_root, tmp_path / "built", {}, [])


def test_an_empty_release_folder_fails(cartoonization_root: Path, tmp_path: Path) -> None:
    for path in sorted((cartoonization_root / "photo_scenery").rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    with pytest.raises(AdapterError, match=re.escape(f"{cartoonization_root / 'photo_scenery'}: no images")):
        run_adapter("cartoonization", cartoonization_root, tmp_path / "built", {}, [])


def test_an_unreadable_nested_image_fails_naming_it(cartoonization_root: Path, tmp_path: Path) -> None:
    broken = cartoonization_root / "cartoon_face/kyoto/broken.jpg"
    broken.write_bytes(b"truncated")
    with pytest.raises(AdapterError, match=re.escape(f"{broken}: cannot read image broken.jpg")):
        run_adapter("cartoonization", cartoonization_root, tmp_path / "built", {}, [])


def test_the_old_flat_layout_fails_naming_the_release_folders(tmp_path: Path) -> None:
    root = tmp_path / "cartoonization"
    write_image(root / "photos/beach.jpg", 16, 12, 1)
    write_image(root / "cartoons/frame.png", 16, 12, 2)
    with pytest.raises(AdapterError, match=re.escape(
        f"{root}: found photos/ and cartoons/, a layout that is not read; expected the White-box "
        "Cartoonization folders root/photo_face/"
    )):
        run_adapter("cartoonization", root, tmp_path / "built", {}, [])
