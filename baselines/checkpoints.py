"""Where trained baselines keep their weights, and training the ones that are missing.

``<root>/<benchmark>/<baseline>/<protocol_hash>.npz`` with ``root`` =
``$TOONBENCH_CHECKPOINTS`` or ``<repo>/var/checkpoints``: a later run on the
same frozen protocol reuses the file; a changed protocol trains a new one.
``benchmark`` is the benchmark trained on: the baseline's own, or another of
its task. Writing and reading the files is ``baselines.common.weights``
(arrays plus JSON, no pickle, so every baseline image reads what training wrote).
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

from baselines.common.context import TrainContext
from baselines.registry import Baseline, get_baseline
from datasets.build import BuiltBenchmark

REPO_ROOT = Path(__file__).resolve().parent.parent
CHECKPOINT_SUFFIX = ".npz"


def checkpoint_root() -> Path:
    configured = os.environ.get("TOONBENCH_CHECKPOINTS")
    return Path(configured) if configured else REPO_ROOT / "var" / "checkpoints"


def checkpoint_path(benchmark: str, baseline: str, protocol_hash: str, root: Path | None = None) -> Path:
    return Path(root or checkpoint_root()) / benchmark / baseline / f"{protocol_hash}{CHECKPOINT_SUFFIX}"


def ensure_checkpoint(baseline: Baseline, built: BuiltBenchmark, root: Path | None = None, retrain: bool = False) -> Path | None:
    """The baseline's checkpoint for the built benchmark's protocol, trained first when missing.

    Returns None for baselines that learn nothing.
    """
    if not baseline.needs_training:
        return None
    if not baseline.runs_on(built.spec):
        raise ValueError(
            f"baseline {baseline.name!r} runs on {baseline.spec.task} benchmarks; "
            f"{built.spec.slug!r} is a {built.spec.task} benchmark"
        )
    root = Path(root) if root is not None else checkpoint_root()
    path = checkpoint_path(built.spec.slug, baseline.name, built.protocol_hash, root)
    if retrain or not path.exists():
        baseline.train_fn(TrainContext(built, path, partial(required_checkpoint, built=built, root=root)))
    return path


def required_checkpoint(name: str, built: BuiltBenchmark, root: Path) -> Path:
    """Another baseline's checkpoint on the same protocol, for a baseline that starts from it."""
    path = ensure_checkpoint(get_baseline(name), built, root)
    if path is None:
        raise ValueError(f"baseline {name!r} learns nothing, so no baseline can start from its checkpoint")
    return path
