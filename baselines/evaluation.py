"""Score a baseline the way a submission is scored: /input folder, local runner, evaluator."""

from __future__ import annotations

import tempfile
from pathlib import Path

from baselines.registry import Baseline
from datasets.build import BuiltBenchmark
from evaluator.contract import prepare_input
from evaluator.runners.base import RunLimits
from evaluator.runners.local import LocalRunner
from evaluator.scoring import score_outputs


def run_prediction(baseline: Baseline, built: BuiltBenchmark, checkpoint: Path | None, workdir: Path) -> Path:
    """Prepare ``workdir/input``, run the predict command with the local runner, return ``workdir/output``."""
    input_dir = prepare_input(built, workdir / "input")
    output_dir = workdir / "output"
    result = LocalRunner(baseline.runner_command(checkpoint)).run(input_dir, output_dir, RunLimits.from_spec(built.spec.limits))
    if result.status != "finished":
        raise RuntimeError(f"{baseline.name}: predict {result.status}: {result.reason}\n{result.log_tail[-2000:]}")
    return output_dir


def evaluate_baseline(
    baseline: Baseline, built: BuiltBenchmark, checkpoint: Path | None, extractor: str | None = "seeded-inception"
) -> dict[str, float]:
    """The evaluator's metrics for one baseline on the built benchmark's test split.

    ``extractor`` names the feature extractor of the metrics that use one
    (FID); the others ignore it.
    """
    with tempfile.TemporaryDirectory(prefix=f"{baseline.name}-") as folder:
        output_dir = run_prediction(baseline, built, checkpoint, Path(folder))
        return score_outputs(built, output_dir, extractor=extractor).metrics
