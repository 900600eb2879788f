"""Score a baseline the way a submission is scored: /input folder, local runner, evaluator."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from baselines.registry import Baseline


def run_prediction(baseline: Baseline, built: Any, checkpoint: Path | None, workdir: Path) -> Path:
    """Prepare ``workdir/input``, run the predict command with the local runner, return ``workdir/output``."""
    from evaluator.contract import prepare_input
    from evaluator.runners.base import RunLimits
    from evaluator.runners.local import LocalRunner

    input_dir = prepare_input(built, workdir / "input")
    output_dir = workdir / "output"
    result = LocalRunner(baseline.runner_command(checkpoint)).run(input_dir, output_dir, RunLimits.from_spec(built.spec.limits))
    if result.status != "finished":
        raise RuntimeError(f"{baseline.name}: predict {result.status}: {result.reason}\n{result.log_tail[-2000:]}")
    return output_dir


def evaluate_baseline(baseline: Baseline, built: Any, checkpoint: Path | None, extractor: str | None = "seeded-inception") -> dict[str, float]:
    """The evaluator's metrics for one baseline on the built benchmark's test split."""
    from evaluator.scoring import score_outputs

    with tempfile.TemporaryDirectory(prefix=f"{baseline.name}-") as folder:
        output_dir = run_prediction(baseline, built, checkpoint, Path(folder))
        options = {"extractor": extractor} if built.spec.task == "translation" else {}
        return score_outputs(built, output_dir, **options).metrics
