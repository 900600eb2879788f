"""Figures that compare several results (evaluator/comparison_plots.py): the running best, and PNGs drawn."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from evaluator import comparison_plots as plots

START = datetime(2026, 11, 1, tzinfo=timezone.utc)
POINTS = [(START + timedelta(days=3), 0.5, "c"), (START, 0.6, "a"), (START + timedelta(days=1), 0.6, "b"),
          (START + timedelta(days=2), 0.7, "d"), (START + timedelta(days=4), 0.4, "e")]


def test_the_running_best_keeps_each_entry_that_beats_every_earlier_one_in_time_order() -> None:
    assert [label for _, _, label in plots.running_best(POINTS, higher_is_better=False)] == ["a", "c", "e"]
    assert [label for _, _, label in plots.running_best(POINTS, higher_is_better=True)] == ["a", "d"]


def test_an_equal_value_is_no_new_best() -> None:
    assert [label for _, _, label in plots.running_best(POINTS[1:3], higher_is_better=True)] == ["a"]


def test_long_labels_are_cut_to_the_legend_width() -> None:
    assert plots.short_label("x" * 40) == "x" * 31 + "…" and plots.short_label("short") == "short"


@pytest.mark.parametrize("name", ["cmc", "roc", "rank1", "best", "per_class", "grid"])
def test_each_figure_is_written_as_a_png(name: str, tmp_path: Path) -> None:
    curves = [plots.Curve("first", [1, 2, 3], [0.5, 0.8, 1.0]), plots.Curve("second", [1, 2, 3], [0.2, 0.4, 1.0])]
    photo = np.zeros((16, 16, 3), dtype=np.uint8)
    draw = {
        "cmc": lambda path: plots.draw_overlaid_cmc(curves, path),
        "roc": lambda path: plots.draw_overlaid_roc(
            [plots.Curve("first", [0.0, 0.001, 0.1, 1.0], [0.0, 0.5, 0.9, 1.0])], [0.93], path),
        "rank1": lambda path: plots.draw_overlaid_rank1(
            [plots.Curve("first", [10, 100, 1000], [0.9, 0.8, 0.6])], path),
        "best": lambda path: plots.draw_best_over_time(
            plots.running_best(POINTS, False), "top1_error", False, START + timedelta(days=9), path),
        "per_class": lambda path: plots.draw_per_class_bars(["cat", "dog"], [("mine", [0.1, None])], "top1_error",
                                                            path),
        "grid": lambda path: plots.draw_sample_grid(["p1", "p2"], [photo, photo], [("entry", [photo, None])], path),
    }[name]

    written = draw(tmp_path / f"{name}.png")

    with Image.open(written) as image:
        assert image.format == "PNG" and image.width > 300 and image.height > 200
