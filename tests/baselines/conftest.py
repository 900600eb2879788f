"""Tiny built benchmarks and trained baselines, shared by the baseline tests of one session."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tiny-benchmarks")


@pytest.fixture(scope="session")
def checkpoint_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("checkpoints")


@pytest.fixture(scope="session")
def tiny_built(tiny_root: Path) -> Callable[[str], object]:
    """slug -> the tiny profile of that benchmark, built once per session."""
    from datasets.build import build_benchmark

    cache: dict[str, object] = {}

    def get(slug: str) -> object:
        if slug not in cache:
            cache[slug] = build_benchmark(slug, tiny_root, profile="tiny", source="synthetic")
        return cache[slug]

    return get


@pytest.fixture(scope="session")
def trained(tiny_built: Callable[[str], object], checkpoint_root: Path) -> Callable[[str], tuple[object, Path | None]]:
    """baseline name -> (its tiny built benchmark, its checkpoint), training once per session."""
    from baselines.checkpoints import ensure_checkpoint
    from baselines.registry import get_baseline

    def get(name: str) -> tuple[object, Path | None]:
        baseline = get_baseline(name)
        built = tiny_built(baseline.benchmark)
        return built, ensure_checkpoint(baseline, built, checkpoint_root)

    return get


@pytest.fixture(scope="session")
def predicted(trained: Callable[[str], tuple[object, Path | None]], tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[object, Path]]:
    """baseline name -> (built benchmark, output folder) after running its predict command once."""
    from baselines.evaluation import run_prediction
    from baselines.registry import get_baseline

    cache: dict[str, tuple[object, Path]] = {}

    def get(name: str) -> tuple[object, Path]:
        if name not in cache:
            built, checkpoint = trained(name)
            workdir = tmp_path_factory.mktemp(name)
            cache[name] = (built, run_prediction(get_baseline(name), built, checkpoint, workdir))
        return cache[name]

    return get
