"""The illustration noisy training set (Lagunas & Garces §4.2) against its definition: more classes than the
benchmark's, a stated share of wrong labels, deterministic, never held out, read from a release laid out as published."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from datasets.adapters.image_files import opaque_id
from datasets.build import build_benchmark
from datasets.generators._draw import item_rng, opaque_id as generator_id
from datasets.generators.glyph_noisy import EXTRA_PREFIX, extra_class_names, extra_shape, noisy_classes, noisy_labels
from datasets.generators.glyphs import NOISY_NAME, render
from datasets.generators._glyph_shapes import Palette
from datasets.manifest import NOISY_SPLIT, manifest_bytes
from datasets.spec import load_spec, spec_path
from tests.datasets.test_published_layouts import ILLUSTRATION_CLASSES, write_image

TINY = load_spec("illustration", "tiny")


def written_spec(tmp_path: Path, noisy: dict | None) -> Path:
    """The bundled illustration spec with its ``noisy`` block (default and tiny profile) replaced, or removed (None)."""
    document = yaml.safe_load(spec_path("illustration").read_text())
    for synthetic in (document["dataset"]["synthetic"], document["profiles"]["tiny"]["dataset"]["synthetic"]):
        synthetic.pop("noisy")
        if noisy is not None:
            synthetic["noisy"] = noisy
    path = tmp_path / "illustration.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    return build_benchmark(TINY, tmp_path_factory.mktemp("noisy"), source="synthetic")


def test_labels_are_wrong_for_exactly_the_stated_share() -> None:
    drawn, labelled = noisy_labels(1000, 27, 0.2, seed=3)
    assert np.array_equal(drawn, np.arange(1000) % 27)
    wrong = labelled != drawn
    assert wrong.sum() == 200
    assert labelled.min() >= 0 and labelled.max() < 27
    assert len(set(labelled[wrong].tolist())) > 20  # the wrong labels spread over the other classes
    again = noisy_labels(1000, 27, 0.2, seed=3)
    assert np.array_equal(again[1], labelled)
    assert not np.array_equal(noisy_labels(1000, 27, 0.2, seed=4)[1], labelled)
    assert (noisy_labels(1000, 27, 0.0, seed=3)[1] == drawn).all()


def same_outline(a: list, b: list) -> bool:
    return len(a) == len(b) and all(p.points.shape == q.points.shape and np.allclose(p.points, q.points) for p, q in zip(a, b))


def test_extra_classes_have_their_own_fixed_layouts() -> None:
    palette = Palette(*[(10 * k, 20, 30) for k in range(7)])
    first = extra_shape(f"{EXTRA_PREFIX}000", np.random.default_rng(0), palette)
    again = extra_shape(f"{EXTRA_PREFIX}000", np.random.default_rng(0), palette)
    other = extra_shape(f"{EXTRA_PREFIX}001", np.random.default_rng(0), palette)
    assert 3 <= len(first) <= 6
    assert same_outline(first, again) and not same_outline(first, other)
    assert extra_class_names(3) == ["noisy_object_000", "noisy_object_001", "noisy_object_002"]


def test_the_noisy_set_has_the_stated_classes_counts_and_wrong_labels(built) -> None:
    noisy = TINY.dataset.synthetic.params.noisy
    names = noisy_classes(TINY.classes, noisy)
    items = built.noisy_items()
    assert noisy.extra_classes > 0 and len(names) == len(TINY.classes) + noisy.extra_classes
    assert len(items) == noisy.per_class * len(names)
    assert all(item.split == NOISY_SPLIT for item in items)
    assert {item.label for item in items} - set(TINY.classes)  # more classes than the benchmark's
    drawn, labelled = noisy_labels(len(items), len(names), noisy.label_noise, TINY.dataset.synthetic.seed)
    by_id = {item.id: item for item in items}
    for index in range(len(items)):
        assert by_id[opaque_id_of(index)].label == names[labelled[index]]
    assert (labelled != drawn).sum() == round(noisy.label_noise * len(items)) > 0


def opaque_id_of(index: int) -> str:
    return generator_id(NOISY_NAME, TINY.dataset.synthetic.seed, index)


def test_each_noisy_image_is_drawn_as_its_true_class_whatever_its_label(built) -> None:
    params = TINY.dataset.synthetic.params
    names = noisy_classes(TINY.classes, params.noisy)
    drawn, labelled = noisy_labels(len(built.noisy_items()), len(names), params.noisy.label_noise, TINY.dataset.synthetic.seed)
    flipped = int(np.flatnonzero(drawn != labelled)[0])
    assert params.noisy.size != params.size  # drawn at its own size
    for index in (0, flipped, len(drawn) - 1):
        on_disk = cv2.cvtColor(cv2.imread(str(built.folder / f"images/{opaque_id_of(index)}.png")), cv2.COLOR_BGR2RGB)
        expected = render(item_rng(TINY.dataset.synthetic.seed, NOISY_NAME, index), names[drawn[index]], params.noisy.size, params.nuisances)
        assert np.array_equal(on_disk, expected)


def test_the_noisy_set_is_never_held_out_and_leaves_the_split_unchanged(built, tmp_path: Path) -> None:
    noisy = built.noisy_items()
    test = built.test_items()
    assert {item.id for item in noisy}.isdisjoint(item.id for item in test)
    assert {item.sha256 for item in noisy}.isdisjoint(item.sha256 for item in test + built.train_items())
    without = build_benchmark(load_spec(written_spec(tmp_path, noisy=None), "tiny"), tmp_path / "plain", source="synthetic")
    assert without.noisy_items() == []
    assert without.train_items() == built.train_items() and without.test_items() == test


def test_same_spec_and_seed_give_the_same_manifest_bytes(built, tmp_path: Path) -> None:
    again = build_benchmark(TINY, tmp_path, source="synthetic", force=True)
    assert manifest_bytes(again.items) == manifest_bytes(built.items)
    assert (again.folder / "manifest.jsonl").read_bytes() == (built.folder / "manifest.jsonl").read_bytes()


def test_the_noisy_block_is_part_of_the_protocol(tmp_path: Path) -> None:
    stated = TINY.dataset.synthetic.params.noisy
    same = load_spec(written_spec(tmp_path, stated.model_dump(exclude_unset=True)), "tiny")
    noisier = load_spec(written_spec(tmp_path, {**stated.model_dump(exclude_unset=True), "label_noise": 0.4}), "tiny")
    assert noisier.dataset.synthetic.params.noisy == stated.model_copy(update={"label_noise": 0.4})
    assert same.spec_hash() == TINY.spec_hash() != noisier.spec_hash()


# --- the real release: curated/{train,val} and the noisy set's training folder -----------------


@pytest.fixture
def release(tmp_path: Path) -> Path:
    """``illustration/curated/{train,val}/<class>/`` plus ``noisy/{train,val}/<ImageNet class>/``, as published."""
    data = tmp_path / "real"
    for index, name in enumerate(ILLUSTRATION_CLASSES):
        write_image(data / "illustration/curated/train" / name / f"{name}_0.jpg", 20, 16, index)
        write_image(data / "illustration/curated/val" / name / f"{name}_v0.png", 18, 14, 100 + index)
    for index, name in enumerate(["crane", "hot dog", "zebra"]):
        for number in range(2):
            write_image(data / "illustration/noisy/train" / name / f"{name}-{number}.png", 16, 16, 200 + 10 * index + number)
        write_image(data / "illustration/noisy/val" / name / f"{name}-v.png", 16, 16, 300 + index)
    return data


def test_a_release_with_its_noisy_folder_adds_the_noisy_split(release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOONBENCH_DATA", str(release))
    built = build_benchmark("illustration", tmp_path / "built", source="real")
    noisy = {item.id: item.label for item in built.noisy_items()}
    expected = {
        opaque_id("folder_per_class", path.relative_to(release / "illustration").as_posix()): path.parent.name
        for path in sorted((release / "illustration/noisy/train").rglob("*.png"))
    }
    assert noisy == expected and sorted(set(noisy.values())) == ["crane", "hot dog", "zebra"]
    assert len(built.train_items()) == len(built.test_items()) == len(ILLUSTRATION_CLASSES)
    assert {item.id for item in built.test_items()}.isdisjoint(noisy)


def test_a_release_without_its_noisy_folder_builds_without_one(release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for path in sorted((release / "illustration/noisy").rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    monkeypatch.setenv("TOONBENCH_DATA", str(release))
    built = build_benchmark("illustration", tmp_path / "built", source="real")
    assert built.noisy_items() == [] and len(built.train_items()) == len(ILLUSTRATION_CLASSES)
