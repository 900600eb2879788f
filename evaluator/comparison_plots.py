"""Figures that compare several results on one leaderboard: overlaid curves, the best result over time,
per-class bars side by side, and a grid of sample outputs.

Each ``draw_*`` takes plain numbers (lists, arrays, labels) and writes one
PNG, so it runs without the site; which results a figure shows, and to whom,
is the site's decision. Lines keep one colour per entry across a page's
figures: entries are drawn in the order given, with ``ENTRY_COLOURS``.
Figures are made without pyplot's global state, so web threads may draw at
the same time.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter, ScalarFormatter

from evaluator.plots import FAR_MARKS, MARK_COLOUR, roc_axes, save_figure

ENTRY_COLOURS = ("#1f5fa8", "#d1495b", "#2e933c", "#edae49", "#6a4c93", "#00798c", "#8d6a9f", "#5c5c5c")
LABEL_CHARS = 32
ROW_LABEL_CHARS = 18  # a grid row's name, wrapped beside its images
MAX_TICKS = 8


@dataclass(frozen=True)
class Curve:
    """One entry's curve: its legend label and its points."""

    label: str
    x: Sequence[float]
    y: Sequence[float]


def short_label(text: str) -> str:
    """A legend label no wider than ``LABEL_CHARS`` characters."""
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def colour(index: int) -> str:
    return ENTRY_COLOURS[index % len(ENTRY_COLOURS)]


def draw_overlaid_cmc(curves: Sequence[Curve], path: Path) -> Path:
    """CMC curves of several entries (identification rate against rank k, log k axis)."""
    figure = Figure(figsize=(6.4, 4.4))
    axes = figure.subplots()
    longest = 2
    for index, curve in enumerate(curves):
        ranks, rates = np.asarray(curve.x, dtype=float), np.asarray(curve.y, dtype=float)
        longest = max(longest, int(ranks.max()) if ranks.size else 2)
        label = f"{short_label(curve.label)} (rank-1 {rates[0]:.3f})" if rates.size else short_label(curve.label)
        axes.plot(ranks, rates, color=colour(index), linewidth=1.8, label=label)
    axes.set_xscale("log")
    axes.set_xlim(1, longest)
    axes.set_xticks([k for k in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000) if k <= longest])
    axes.xaxis.set_major_formatter(ScalarFormatter())
    axes.set_ylim(0, 1.02)
    axes.set_xlabel("rank k")
    axes.set_ylabel("identification rate (CMC)")
    axes.set_title("CMC curves of the top entries")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="lower right", fontsize=8)
    return save_figure(figure, path)


def draw_overlaid_roc(curves: Sequence[Curve], aucs: Sequence[float | None], path: Path) -> Path:
    """Verification ROC curves of several entries (log false accept rate), AUC in the legend."""
    positive = [value for curve in curves for value in curve.x if value > 0]
    left = min(FAR_MARKS[0], min(positive) / 2 if positive else FAR_MARKS[0])
    figure = Figure(figsize=(6.4, 4.4))
    axes = figure.subplots()
    for index, (curve, auc) in enumerate(zip(curves, aucs)):
        fpr, tpr = np.asarray(curve.x, dtype=float), np.asarray(curve.y, dtype=float)
        label = short_label(curve.label) + (f" (AUC {auc:.4f})" if auc is not None else "")
        # a log axis cannot show FAR = 0; those points are drawn at the left edge
        axes.plot(np.maximum(fpr, left), tpr, color=colour(index), linewidth=1.8, label=label)
    roc_axes(axes, left)
    axes.set_title("Verification ROC of the top entries")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="lower right", fontsize=8)
    return save_figure(figure, path)


def draw_overlaid_rank1(curves: Sequence[Curve], path: Path) -> Path:
    """Rank-1 identification rate against the number of distractors, one line per entry."""
    figure = Figure(figsize=(6.4, 4.4))
    axes = figure.subplots()
    for index, curve in enumerate(curves):
        axes.plot(np.asarray(curve.x, dtype=float), np.asarray(curve.y, dtype=float), color=colour(index),
                  marker="o", markersize=3.5, linewidth=1.8, label=short_label(curve.label))
    axes.set_xscale("log")
    counts = sorted({int(value) for curve in curves for value in curve.x})
    if len(counts) <= MAX_TICKS:
        axes.set_xticks(counts)
    axes.xaxis.set_major_formatter(ScalarFormatter())
    axes.xaxis.set_minor_formatter(NullFormatter())
    axes.set_ylim(0, 1.02)
    axes.set_xlabel("number of distractors")
    axes.set_ylabel("rank-1 identification rate")
    axes.set_title("Rank-1 against the number of distractors")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="lower left", fontsize=8)
    return save_figure(figure, path)


Point = tuple[Any, float, str]
"""An entry on a time line: when it finished (anything that sorts by time), its value, its name."""


def running_best(points: Sequence[Point], higher_is_better: bool) -> list[Point]:
    """The entries that each beat every earlier one, in time order (an equal value is no new best)."""
    best: list[Point] = []
    for point in sorted(points, key=lambda found: found[0]):
        if not best or (point[1] > best[-1][1] if higher_is_better else point[1] < best[-1][1]):
            best.append(point)
    return best


def draw_best_over_time(bests: Sequence[tuple[datetime, float, str]], metric: str, higher_is_better: bool,
                        until: datetime, path: Path) -> Path:
    """The running best of ``metric`` (``running_best``) as a step line from the first result to ``until``;
    each new best marked and named."""
    figure = Figure(figsize=(7.2, 4.2))
    axes = figure.subplots()
    times = [when for when, _, _ in bests] + [max(until, bests[-1][0])]
    values = [value for _, value, _ in bests]
    axes.step(times, values + values[-1:], where="post", color=ENTRY_COLOURS[0], linewidth=1.8)
    axes.plot(times[:-1], values, "o", color=ENTRY_COLOURS[0], markersize=5)
    for index, (when, value, label) in enumerate(bests):
        last = index == len(bests) - 1  # named to the left of its mark, inside the axes
        axes.annotate(short_label(label), (when, value), textcoords="offset points", ha="right" if last else "left",
                      xytext=(-5 if last else 5, 6 if higher_is_better else -12), fontsize=7.5)
    axes.margins(x=0.05, y=0.15)
    locator = AutoDateLocator()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    axes.set_xlabel("finished (UTC)")
    axes.set_ylabel(f"{metric} ({'higher' if higher_is_better else 'lower'} is better)")
    axes.set_title(f"Best {metric} over time")
    axes.grid(True, alpha=0.3)
    return save_figure(figure, path)


def draw_per_class_bars(class_names: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]],
                        metric: str, path: Path) -> Path:
    """One group of horizontal bars per class, one bar per entry (a missing value draws no bar)."""
    count = max(len(series), 1)
    height = max(3.5, 0.14 * len(class_names) * (count + 1) + 1.8)
    figure = Figure(figsize=(7.2, height))
    axes = figure.subplots()
    positions = np.arange(len(class_names))
    bar = 0.8 / count
    for index, (label, values) in enumerate(series):
        numbers = np.array([np.nan if value is None else value for value in values], dtype=float)
        axes.barh(positions + (index - (count - 1) / 2) * bar, np.nan_to_num(numbers), height=bar,
                  color=colour(index), label=short_label(label))
    axes.set_yticks(positions, list(class_names), fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(0, 1)
    axes.set_xlabel(f"{metric} per class")
    axes.set_title(f"Per-class {metric}", pad=28)
    axes.grid(True, axis="x", alpha=0.3)
    axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=min(count, 3), fontsize=8, frameon=False)
    return save_figure(figure, path)


def draw_sample_grid(photo_names: Sequence[str], photos: Sequence[np.ndarray],
                     rows: Sequence[tuple[str, Sequence[np.ndarray | None]]], path: Path) -> Path:
    """The input photos in the first row, then one row per entry with its output for each photo
    (an empty cell where the entry has none)."""
    columns = max(len(photos), 1)
    figure = Figure(figsize=(1.9 * columns + 1.6, 1.9 * (len(rows) + 1)))
    grid = figure.subplots(len(rows) + 1, columns, squeeze=False)
    for row_index, (label, images) in enumerate([("photo", list(photos)), *rows]):
        for column_index in range(columns):
            axes = grid[row_index][column_index]
            axes.set_xticks([])
            axes.set_yticks([])
            axes.set_box_aspect(1)
            image = images[column_index] if column_index < len(images) else None
            if image is not None:
                axes.imshow(image)
            else:
                axes.text(0.5, 0.5, "no output", ha="center", va="center", fontsize=8, color=MARK_COLOUR,
                          transform=axes.transAxes)
            if row_index == 0:
                axes.set_title(short_label(photo_names[column_index]), fontsize=7.5)
            if column_index == 0:
                axes.set_ylabel(textwrap.fill(short_label(label), ROW_LABEL_CHARS), fontsize=8)
    figure.suptitle("Development photos through the top entries", fontsize=10)
    return save_figure(figure, path)
