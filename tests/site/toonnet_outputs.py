"""Outputs for the tiny toonnet build: seeded scores, the truth, predictions archives."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import numpy as np

from datasets.build import BuiltBenchmark

REPO_ROOT = Path(__file__).resolve().parents[2]


def seeded_scores(built: BuiltBenchmark, seed: int = 7) -> np.ndarray:
    """Random float32 scores, one row per test item (no ties), with a bias towards the truth."""
    rng = np.random.default_rng(seed)
    items = sorted(built.test_items(), key=lambda item: item.id)
    scores = rng.random((len(items), len(built.spec.classes))).astype(np.float32)
    for row, item in enumerate(items[: len(items) // 2]):
        scores[row, built.spec.classes.index(item.label)] += 0.5
    return scores


def true_class_indices(built: BuiltBenchmark) -> np.ndarray:
    items = sorted(built.test_items(), key=lambda item: item.id)
    return np.array([built.spec.classes.index(item.label) for item in items])


def predictions_zip(path: Path, scores: np.ndarray, folder: str = "") -> Path:
    """A predictions archive holding ``scores.npy`` (optionally inside one folder)."""
    npy = path.with_suffix(".npy")
    np.save(npy, scores)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.write(npy, f"{folder}/scores.npy" if folder else "scores.npy")
    return path


def copy_specs(destination: Path) -> Path:
    shutil.copytree(REPO_ROOT / "datasets" / "benchmarks", destination)
    return destination
