"""cartoon-whitebox-classical picks its style on the train split, stores it, and predicts with it.

The FID extractor is replaced by a small, exact stand-in (each image's 2x2
average colours, 12 numbers) so that these tests run in seconds; the real
extractor's training is covered by test_no_test_data.py (slow).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest

from baselines.cartoon_whitebox_classical import method, selection
from baselines.cartoon_whitebox_classical.whitebox import Style, cartoonize
from baselines.common.context import TrainContext
from baselines.common.contract import read_rgb, write_rgb
from baselines.common.weights import file_digest, load_checkpoint, save_checkpoint


def corner_colours(paths: Sequence[Path]) -> np.ndarray:
    """Per image, the mean colour of each 2x2 quadrant: a 12-d feature row."""
    return np.stack([cv2.resize(read_rgb(path), (2, 2), interpolation=cv2.INTER_AREA).astype(np.float64).ravel()
                     for path in paths])


def hand_photos(count: int = 6) -> list[np.ndarray]:
    """Blocks of random colours with mild noise: edges for Canny, regions for the segmenter, colour to saturate."""
    rng = np.random.default_rng(0)
    photos = []
    for _ in range(count):
        blocks = cv2.resize(rng.integers(0, 256, (5, 6, 3), dtype=np.uint8), (48, 40), interpolation=cv2.INTER_NEAREST)
        photos.append(np.clip(blocks + rng.normal(0.0, 8.0, blocks.shape), 0, 255).astype(np.uint8))
    return photos


def stub_context(built, checkpoint: Path, monkeypatch: pytest.MonkeyPatch) -> TrainContext:
    monkeypatch.setattr(selection, "scorer_features", lambda: corner_colours)
    return TrainContext(built=built, checkpoint=checkpoint, require=lambda name: pytest.fail(f"requires {name}"))


def test_the_grid_spans_the_three_constants_in_at_most_twelve_points() -> None:
    assert len(selection.GRID) == len(set(selection.GRID)) == 12
    assert {style.saturation_gain for style in selection.GRID} == set(selection.SATURATION_GAINS)
    assert {style.edge_darkness for style in selection.GRID} == set(selection.EDGE_DARKNESSES)
    assert {style.segment_scale for style in selection.GRID} == set(selection.SEGMENT_SCALES)


def test_best_is_the_lowest_fid_and_the_first_on_ties() -> None:
    grid = [Style(1.0), Style(2.0), Style(3.0)]
    assert selection.best(grid, [5.0, 1.0, 3.0]) == Style(2.0)
    assert selection.best(grid, [2.0, 7.0, 2.0]) == Style(1.0)


def test_sample_is_seeded_ordered_and_keeps_small_sets_whole() -> None:
    paths = [Path(f"{index}.png") for index in range(50)]
    first = selection.sample(paths, 10, seed=0)
    assert first == selection.sample(paths, 10, seed=0)
    assert first == sorted(first, key=lambda path: int(path.stem)) and len(set(first)) == 10
    assert first != selection.sample(paths, 10, seed=1)
    assert selection.sample(paths[:7], 10, seed=0) == paths[:7]


def test_the_style_whose_cartoons_are_the_reference_gets_fid_zero_and_wins(tmp_path: Path) -> None:
    photos = hand_photos()
    target = selection.GRID[7]
    reference = selection.style_features(photos, target, corner_colours, tmp_path)
    fids = selection.grid_fids(photos, reference, selection.GRID, corner_colours)
    assert fids[7] == pytest.approx(0.0, abs=1e-6)
    assert min(fid for index, fid in enumerate(fids) if index != 7) > 1.0
    assert selection.best(selection.GRID, fids) == target


def test_selection_reads_only_train_images(tiny_built, tmp_path, monkeypatch) -> None:
    built = tiny_built("cartoonization")
    read: list[Path] = []
    featured: list[Path] = []
    monkeypatch.setattr(selection, "read_rgb", lambda path: read.append(Path(path)) or read_rgb(path))

    def recording(paths: Sequence[Path]) -> np.ndarray:
        featured.extend(Path(path) for path in paths)
        return corner_colours(paths)

    style, fids = selection.select_style(built, 3, seed=0, features=recording)
    train = {(built.folder / item.path).resolve() for item in built.train_items()}
    photos = {(built.folder / item.path).resolve() for item in built.train_items() if item.domain == "photo"}
    assert read and {path.resolve() for path in read} <= photos
    inside = [path for path in featured if path.resolve().is_relative_to(built.folder.resolve())]
    assert len(inside) == 3 and {path.resolve() for path in inside} <= train - photos
    assert all(path.name.endswith(".png") and "whitebox-classical-" in str(path) for path in featured if path not in inside)
    assert style in selection.GRID and len(fids) == len(selection.GRID)


def test_training_stores_the_chosen_style_and_is_deterministic(tiny_built, tmp_path, monkeypatch) -> None:
    built = tiny_built("cartoonization")
    first, second = tmp_path / "a.npz", tmp_path / "b.npz"
    method.train(stub_context(built, first, monkeypatch))
    method.train(stub_context(built, second, monkeypatch))
    assert file_digest(first) == file_digest(second)
    payload = load_checkpoint(first)
    size = selection.SAMPLE_SIZES["tiny"]
    expected, fids = selection.select_style(built, size, method.SEED, corner_colours)
    assert method.load_style(first) == expected == Style(**payload["style"])
    assert [entry.pop("fid_cartoon") for entry in payload["grid"]] == pytest.approx(fids)
    assert [Style(**entry) for entry in payload["grid"]] == list(selection.GRID)
    assert payload["sample_size"] == size and payload["extractor"] == "seeded-inception"


def test_predict_applies_the_stored_style(tmp_path: Path) -> None:
    photos = hand_photos(2)
    style = Style(saturation_gain=2.0, edge_darkness=0.5, segment_scale=100.0)
    checkpoint = save_checkpoint(tmp_path / "ck.npz", {"baseline": method.NAME, "style": vars(style)})
    input_dir, output_dir = tmp_path / "in", tmp_path / "out"
    for index, photo in enumerate(photos):
        write_rgb(input_dir / f"p{index}.png", photo)
    (input_dir / "manifest.json").write_text(json.dumps(
        {"task": "translation", "items": [{"id": f"p{index}", "path": f"p{index}.png"} for index in range(len(photos))]}))
    method.predict(input_dir, output_dir, checkpoint)
    for index, photo in enumerate(photos):
        output = read_rgb(output_dir / "images" / f"p{index}.png")
        assert np.array_equal(output, cartoonize(photo, style))
        assert not np.array_equal(output, cartoonize(photo))


def test_predict_without_a_checkpoint_says_how_to_train(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="baselines train --only cartoon-whitebox-classical"):
        method.predict(tmp_path, tmp_path / "out", None)
