"""Figures of a result, drawn on first request by ``evaluator.plots`` and kept under media.

A result is written once per submission and never edited, so a figure
cached by submission id and result time stays valid; a re-scored result
(new ``created``) gets new files. Which figures a visitor may see is
``submissions.disclosure``'s decision: the classification figures show the
test split's truth and are for staff only.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from submissions.models import Result

PLOT_TITLES = {
    "cmc": "Cumulative match characteristic",
    "roc": "Verification ROC",
    "confusion": "Confusion matrix",
    "per_class": "Per-class precision",
}


def available_plots(result: Result | None) -> list[str]:
    """The figures the result's details can make, in display order."""
    if result is None:
        return []
    details = result.details or {}
    names = []
    if "identification" in details:
        names.append("cmc")
    if "verification" in details:
        names.append("roc")
    if "classification" in details:
        names += ["confusion", "per_class"]
    return names


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
        _draw(result, name, Path(partial))
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return target


def _draw(result: Result, name: str, path: Path) -> None:
    from evaluator import plots  # matplotlib is slow to import: only when a figure is drawn

    details = result.details
    if name == "cmc":
        plots.draw_cmc(details["identification"], path)
    elif name == "roc":
        plots.draw_roc(details["verification"], path)
    elif name == "confusion":
        classification = details["classification"]
        plots.draw_confusion(classification, list(classification["class_names"]), path)
    elif name == "per_class":
        plots.draw_per_class(details["classification"], path)
    else:
        raise KeyError(f"unknown figure {name!r} (known: {', '.join(PLOT_TITLES)})")
