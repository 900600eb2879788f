"""Figures of a result, drawn on first request by ``evaluator.plots`` and kept under media.

A result is written once per submission and never edited, so a figure
cached by submission id and result time stays valid; a re-scored result
(new ``created``) gets new files. The figures a result offers are its task
type's (``TaskType.figures``) whose details it holds. Which of them a
visitor may see is ``results.disclosure``'s decision: the
classification figures show the test split's truth and are for staff only.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from evaluator.plots import FIGURES
from evaluator.tasks import TASKS
from results.models import Result


def plot_title(name: str) -> str:
    return FIGURES.get(name).title


def available_plots(result: Result | None) -> list[str]:
    """The task's figures that the result's details can make, in the task's order."""
    if result is None:
        return []
    details = result.details or {}
    task = result.submission.benchmark.task
    figures = TASKS.get(task).figures if task in TASKS else ()
    return [name for name in figures if FIGURES.get(name).can_draw(details)]


def plot_path(result: Result, name: str, media_root: Path) -> Path:
    """The PNG for one figure, drawn now if not cached."""
    folder = media_root / "plots" / str(result.submission_id)
    target = folder / f"{name}-{int(result.created.timestamp())}.png"
    if target.is_file():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(suffix=".png", dir=folder)
    os.close(handle)
    try:
        figure = FIGURES.get(name)
        figure.draw(result.details[figure.evidence], Path(partial))
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return target
