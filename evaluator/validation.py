"""Load and check a submission's ``/output`` before any scoring (DESIGN.md §3).

``validate_outputs`` checks the folder itself (plain files only, under the
size cap), then hands it to the benchmark's task type, whose loader
(``evaluator.tasks``) checks and loads the files the contract names. Every
problem is an ``OutputError`` (``evaluator.output_files``) with a one-line
message naming the file and what was expected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from datasets.build import BuiltBenchmark
from evaluator.output_files import OutputError, check_output_folder
from evaluator.tasks import task_of

__all__ = ["OutputError", "check_output_folder", "validate_outputs"]


def validate_outputs(built: BuiltBenchmark, output_dir: Path, *, output_mb: float | None = None) -> Any:
    """Check a whole output folder against the benchmark's contract before scoring.

    Returns the clean material to score, as the task's loader gives it (for
    example scores ``[N, C]`` in manifest order for classification, the
    output PNG paths in input order for translation). ``output_mb`` defaults
    to the spec's ``limits.output_mb``.
    """
    output_dir = Path(output_dir)
    spec = built.spec
    check_output_folder(output_dir, spec.limits.output_mb if output_mb is None else output_mb)
    task = task_of(spec)
    return task.load_outputs(built, output_dir, task.inputs(built))
