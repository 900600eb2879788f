"""Figures for a scored submission: CMC, ROC, confusion matrix, per-class precision.

Each ``draw_*`` reads the ``details`` a metric family's evidence produced
(see ``EvaluationResult.details``) and writes one PNG. ``FIGURES`` names
them, with the evidence kind each reads and its file name; a task type
lists the figures it offers (``TaskType.figures``) and ``draw_all`` draws
those.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the headless backend)
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import ScalarFormatter  # noqa: E402

from datasets.registry import Registry  # noqa: E402

DPI = 120
LINE_COLOUR = "#1f5fa8"
MARK_COLOUR = "#888888"
FAR_MARKS = (1e-3, 1e-2)


def draw_cmc(details: dict[str, Any], path: Path) -> Path:
    """Cumulative match characteristic: share of probes whose true identity ranks <= k."""
    cmc = np.asarray(details["cmc"], dtype=float)
    ranks = np.arange(1, len(cmc) + 1)
    figure, axes = plt.subplots(figsize=(6, 4.2))
    axes.plot(ranks, cmc, color=LINE_COLOUR, marker="o", markersize=3, linewidth=1.8)
    for k in (1, 5, 10):
        if k <= len(cmc):
            axes.annotate(f"rank-{k}: {cmc[k - 1]:.3f}", (k, cmc[k - 1]), textcoords="offset points",
                          xytext=(6, -14) if k == 1 else (-4, 10), ha="left" if k == 1 else "right", fontsize=8)
    axes.set_xscale("log")
    axes.set_xlim(1, max(len(cmc), 2))
    axes.set_xticks([k for k in (1, 2, 5, 10, 20, 50, 100) if k <= len(cmc)])
    axes.xaxis.set_major_formatter(ScalarFormatter())
    axes.set_ylim(0, 1.02)
    axes.set_xlabel("rank k")
    axes.set_ylabel("identification rate (CMC)")
    probes = details.get("probes")
    axes.set_title("CMC curve" + (f" ({probes} probes)" if probes else ""))
    axes.grid(True, which="both", alpha=0.3)
    return save_figure(figure, path)


def draw_rank1_vs_distractors(details: dict[str, Any], path: Path) -> Path:
    """Rank-1 identification rate against the number of distractors (iCartoonFace Fig. 7c)."""
    curve = details["rank1_vs_distractors"]
    counts = np.asarray(curve["distractors"], dtype=float)
    rates = np.asarray(curve["rank1"], dtype=float)
    figure, axes = plt.subplots(figsize=(6, 4.2))
    axes.plot(counts, rates, color=LINE_COLOUR, marker="o", markersize=4, linewidth=1.8)
    axes.set_xscale("log")
    axes.xaxis.set_major_formatter(ScalarFormatter())
    axes.set_ylim(0, 1.02)
    axes.set_xlabel("number of distractors")
    axes.set_ylabel("rank-1 identification rate")
    axes.set_title("Rank-1 against the number of distractors")
    axes.grid(True, which="both", alpha=0.3)
    return save_figure(figure, path)


def draw_roc(details: dict[str, Any], path: Path) -> Path:
    """Verification ROC (log false accept rate) with the AUC in the legend."""
    fpr = np.asarray(details["roc"]["fpr"], dtype=float)
    tpr = np.asarray(details["roc"]["tpr"], dtype=float)
    auc = details.get("auc")
    positive = fpr[fpr > 0]
    left = min(FAR_MARKS[0], positive.min() / 2 if positive.size else FAR_MARKS[0])
    figure, axes = plt.subplots(figsize=(6, 4.2))
    label = f"ROC (AUC = {auc:.4f})" if auc is not None else "ROC"
    # a log axis cannot show FAR = 0; those points are drawn at the left edge
    axes.plot(np.maximum(fpr, left), tpr, color=LINE_COLOUR, linewidth=1.8, label=label)
    roc_axes(axes, left)
    pairs = details.get("pairs")
    counts = f" ({pairs['same']} positive, {pairs['different']} negative pairs)" if isinstance(pairs, dict) else ""
    axes.set_title("Verification ROC" + counts)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="lower right")
    return save_figure(figure, path)


def draw_confusion(details: dict[str, Any], class_names: list[str], path: Path) -> Path:
    """Top-1 confusion matrix, rows normalised to the share of each true class."""
    counts = np.asarray(details["confusion_matrix"], dtype=float)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = max(5.0, 0.42 * len(class_names) + 2.5)
    figure, axes = plt.subplots(figsize=(size + 1, size))
    image = axes.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    ticks = np.arange(len(class_names))
    axes.set_xticks(ticks, class_names, rotation=60, ha="right", fontsize=8)
    axes.set_yticks(ticks, class_names, fontsize=8)
    if len(class_names) <= 15:
        for row, column in zip(*np.nonzero(counts)):
            colour = "white" if shares[row, column] > 0.5 else "black"
            axes.text(column, row, f"{int(counts[row, column])}", ha="center", va="center", fontsize=7, color=colour)
    axes.set_xlabel("predicted class (top-1)")
    axes.set_ylabel("true class")
    axes.set_title("Confusion matrix (row share; numbers are counts)")
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04, label="share of true class")
    return save_figure(figure, path)


def draw_per_class(details: dict[str, Any], path: Path) -> Path:
    """Per-class top-k precision as grouped horizontal bars, one group per class."""
    class_names = list(details["class_names"])
    per_class = details["per_class_precision"]
    series = sorted(per_class, key=lambda name: int(name.removeprefix("top")))
    height = max(3.5, 0.16 * len(class_names) * (len(series) + 1) + 1.5)
    figure, axes = plt.subplots(figsize=(7, height))
    positions = np.arange(len(class_names))
    bar = 0.8 / max(len(series), 1)
    colours = plt.get_cmap("viridis")(np.linspace(0.15, 0.75, max(len(series), 1)))
    for offset, (name, colour) in enumerate(zip(series, colours)):
        values = np.array([np.nan if v is None else v for v in per_class[name]], dtype=float)
        axes.barh(positions + (offset - (len(series) - 1) / 2) * bar, np.nan_to_num(values), height=bar,
                  color=colour, label=f"top-{name.removeprefix('top')}")
    axes.set_yticks(positions, class_names, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(0, 1)
    axes.set_xlabel("precision (share of the class's test items)")
    axes.set_title("Per-class precision", pad=24)
    axes.grid(True, axis="x", alpha=0.3)
    axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(series), fontsize=8, frameon=False)
    return save_figure(figure, path)


@dataclass(frozen=True)
class FigureDef:
    """One figure: the evidence kind whose details it reads, its file name and how to draw it."""

    evidence: str
    filename: str
    draw: Callable[[dict[str, Any], Path], Path]
    title: str
    needs: str = ""
    """A key of the evidence's details the figure reads that not every result has ('' when none)."""

    def can_draw(self, details: dict[str, Any]) -> bool:
        """Whether a result's ``details`` hold what this figure draws."""
        found = details.get(self.evidence)
        return found is not None and (not self.needs or self.needs in found)


def _draw_confusion_of(details: dict[str, Any], path: Path) -> Path:
    return draw_confusion(details, list(details["class_names"]), path)


FIGURES: Registry[FigureDef] = Registry("figure")
FIGURES.add("cmc", FigureDef("identification", "cmc.png", draw_cmc, "Cumulative match characteristic"))
FIGURES.add("rank1_distractors", FigureDef(
    "identification", "rank1_vs_distractors.png", draw_rank1_vs_distractors,
    "Rank-1 against the number of distractors", needs="rank1_vs_distractors",
))
FIGURES.add("roc", FigureDef("verification", "roc.png", draw_roc, "Verification ROC"))
FIGURES.add("confusion", FigureDef("classification", "confusion.png", _draw_confusion_of, "Confusion matrix"))
FIGURES.add("per_class", FigureDef("classification", "per_class.png", draw_per_class, "Per-class precision"))


def draw_all(result: Any, folder: Path, figures: Sequence[str]) -> list[Path]:
    """The named figures (a task's ``figures``) whose evidence the result holds; returns the written paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    drawn = []
    for name in figures:
        figure = FIGURES.get(name)
        if figure.can_draw(result.details):
            drawn.append(figure.draw(result.details[figure.evidence], folder / figure.filename))
    return drawn


def save_figure(figure: Figure, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    plt.close(figure)
    return path


def roc_axes(axes: Any, left: float) -> None:
    """A ROC's axes: log false accept rate from ``left`` to 1 with the marked FARs, true accept rate up."""
    for far in FAR_MARKS:
        axes.axvline(far, color=MARK_COLOUR, linestyle=":", linewidth=1)
        axes.text(far, 0.02, f" FAR {far:g}", color=MARK_COLOUR, fontsize=8, rotation=90, va="bottom")
    axes.set_xscale("log")
    axes.set_xlim(left, 1)
    axes.set_ylim(0, 1.02)
    axes.set_xlabel("false accept rate (FAR)")
    axes.set_ylabel("true accept rate (TAR)")
