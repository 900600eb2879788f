"""bench/calibration.py: best/worst, the band verdict and the paired test against their definitions,
and a tiny-profile run of one benchmark reusing the session's builds and checkpoints."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "calibration.py"


def load_calibration():
    spec = importlib.util.spec_from_file_location("calibration", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("calibration", module)
    spec.loader.exec_module(module)
    return module


calibration = load_calibration()


class FakeResult:
    def __init__(self, **metrics: float) -> None:
        self.metrics = metrics


def row(name: str, value: float, **metrics: float):
    return calibration.Row(name, value, value - 0.01, value + 0.01, 0.0, FakeResult(**metrics))


def test_best_and_worst_follow_the_metric_direction() -> None:
    rows = [row("a", 0.30), row("b", 0.10), row("c", 0.20)]
    assert [r.name for r in calibration.best_and_worst(rows, higher_is_better=False)] == ["b", "a"]
    assert [r.name for r in calibration.best_and_worst(rows, higher_is_better=True)] == ["a", "b"]


def test_the_band_is_inclusive_scaled_and_honours_the_ceiling() -> None:
    band = calibration.Target(15.0, 35.0, 100.0)
    assert calibration.band_met(row("a", 0.15), band) is True
    assert calibration.band_met(row("a", 0.35), band) is True
    assert calibration.band_met(row("a", 0.149), band) is False
    assert calibration.band_met(row("a", 0.018), band) is False
    ceiling = calibration.Target(70.0, 90.0, 100.0, ceiling=("top5_precision", 99.0))
    assert calibration.band_met(row("a", 0.80, top5_precision=0.985), ceiling) is True
    assert calibration.band_met(row("a", 0.80, top5_precision=0.99), ceiling) is False
    assert calibration.band_met(row("a", 0.80), calibration.Target(None, None, 1.0)) is None


def test_the_papers_order_puts_the_best_paper_figure_first() -> None:
    names = ["toonnet-resnet", "toonnet-npn", "toonnet-fin", "unknown"]
    assert calibration.paper_order(names, higher_is_better=False) == ["toonnet-npn", "toonnet-fin", "toonnet-resnet"]
    faces = ["icartoonface-softmax", "icartoonface-arcface", "icartoonface-cosface"]
    assert calibration.paper_order(faces, higher_is_better=True) == ["icartoonface-cosface", "icartoonface-arcface", "icartoonface-softmax"]


def test_every_paper_figure_and_target_names_a_registered_baseline_or_benchmark() -> None:
    from baselines.registry import get_baseline
    from datasets.spec import ordered_slugs

    assert all(get_baseline(name) for name in calibration.PAPER)
    assert set(calibration.TARGETS) <= set(ordered_slugs())


@pytest.mark.slow
def test_a_tiny_run_reports_each_baseline_with_its_interval_and_the_paired_test(tiny_root, checkpoint_root, trained) -> None:
    from baselines.registry import baselines_for
    from evaluator.scoring import compare_evidence

    for baseline in baselines_for("illustration"):
        trained(baseline.name)
    report = calibration.calibrate_benchmark("illustration", tiny_root, "tiny", checkpoint_root)
    assert [r.name for r in report.rows] == [b.name for b in baselines_for("illustration")]
    for r in report.rows:
        assert r.value == r.result.metrics["top1_precision"] and r.low <= r.value <= r.high
    assert report.best.value == max(r.value for r in report.rows)
    assert report.worst.value == min(r.value for r in report.rows)
    expected = 0.70 <= report.best.value <= 0.90 and report.best.result.metrics["top5_precision"] < 0.99
    assert report.band_met is expected
    paired = compare_evidence("topk_precision", {"k": 1}, report.best.result.evidence, report.worst.result.evidence)
    assert report.p_value == paired.p_value
    text = calibration.render(report)
    assert "| illustration-cnn-svm | " in text and "62.04 %" in text and "86.61 %" in text
    assert f"p = {report.p_value:.4g}" in text
