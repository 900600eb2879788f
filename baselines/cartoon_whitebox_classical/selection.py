"""Choosing the :class:`Style` on the train split: a small grid scored by FID with the train cartoons.

Every grid point cartoonizes the same seeded sample of train photos; the
point whose outputs lie closest to a seeded sample of train cartoons, by FID
with the features the benchmark's scorer uses by default (the
``seeded-inception`` extractor, ``evaluator.metrics``), wins; ties go to the
earlier point. Nothing from the dev or test split is read: the benchmark's
own metric, FID with cartoon, is only ever estimated on training images.

This module imports the evaluator, which the model image does not hold:
only training (``method.py``) imports it, never ``inference.py``.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from baselines.cartoon_whitebox_classical.whitebox import Style, cartoonize
from baselines.common.contract import read_rgb, write_rgb
from datasets.build import BuiltBenchmark
from evaluator.metrics.frechet import fid_from_features
from evaluator.metrics.inception import load_extractor

SATURATION_GAINS = (1.0, 1.5, 2.0)
EDGE_DARKNESSES = (0.0, 0.5)
SEGMENT_SCALES = (10.0, 100.0)
GRID = tuple(Style(*point) for point in itertools.product(SATURATION_GAINS, EDGE_DARKNESSES, SEGMENT_SCALES))
EXTRACTOR = "seeded-inception"
SAMPLE_SIZES = {"default": 32, "tiny": 4}

Features = Callable[[Sequence[Path]], np.ndarray]


def train_paths(built: BuiltBenchmark, domain: str) -> list[Path]:
    """The train split's image files of one domain, in manifest order."""
    paths = [Path(built.folder) / item.path for item in built.train_items() if item.domain == domain]
    if len(paths) < 2:
        raise ValueError(f"{built.folder}: FID needs at least 2 train {domain} images, found {len(paths)}")
    return paths


def sample(paths: Sequence[Path], size: int, seed: int) -> list[Path]:
    """At most ``size`` of ``paths``, drawn without replacement by ``default_rng(seed)``, in their original order."""
    if len(paths) <= size:
        return list(paths)
    picks = np.random.default_rng(seed).choice(len(paths), size, replace=False)
    return [paths[index] for index in sorted(picks)]


def style_features(photos: Sequence[np.ndarray], style: Style, features: Features, scratch: Path) -> np.ndarray:
    """Features of the photos cartoonized with ``style``, read back from PNG files as the scorer reads outputs."""
    paths = [scratch / f"{index:05d}.png" for index in range(len(photos))]
    for path, photo in zip(paths, photos):
        write_rgb(path, cartoonize(photo, style))
    return features(paths)


def grid_fids(photos: Sequence[np.ndarray], reference: np.ndarray, grid: Sequence[Style], features: Features) -> list[float]:
    """FID with the reference features of each grid point's cartoons."""
    with tempfile.TemporaryDirectory(prefix="whitebox-classical-") as scratch:
        return [fid_from_features(style_features(photos, style, features, Path(scratch)), reference) for style in grid]


def best(grid: Sequence[Style], fids: Sequence[float]) -> Style:
    """The grid point with the lowest FID, the first one on ties."""
    return grid[int(np.argmin(fids))]


def select_style(built: BuiltBenchmark, size: int, seed: int, features: Features,
                 grid: Sequence[Style] = GRID) -> tuple[Style, list[float]]:
    """The chosen style and every grid point's FID, from ``size`` train photos and ``size`` train cartoons."""
    photos = [read_rgb(path) for path in sample(train_paths(built, "photo"), size, seed)]
    reference = features(sample(train_paths(built, "cartoon"), size, seed))
    fids = grid_fids(photos, reference, grid, features)
    return best(grid, fids), fids


def scorer_features() -> Features:
    """The scorer's default FID extractor, on the CPU so that the choice does not depend on the machine."""
    return load_extractor(EXTRACTOR, device="cpu")
