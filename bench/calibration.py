"""Calibration: build each benchmark, train and score every bundled baseline, and set its figure beside the paper's.

    .venv/bin/python bench/calibration.py [--data ROOT] [--profile default|tiny] [--only SLUG ...]
                                          [--checkpoints DIR] [--retrain]

Per benchmark it prints (markdown) each of its own baselines' leaderboard
metric with the 95% interval the evaluator gives it, the paper's figure for
the same method, the target band for the best baseline and whether
it is met, the paired test between the best and the worst baseline
(``evaluator.scoring.compare_evidence`` on the two results' evidence), and
the paper's ordering of the methods beside ours. Training and scoring are
those of ``python -m baselines evaluate``: ``ensure_checkpoint`` (a present
checkpoint for the same protocol is reused), the predict command run by the
local runner on the prepared /input, ``score_outputs`` on its output.

The papers' figures (a ``baseline.yaml`` has no field for them) are in
``PAPER`` below, each with the table it comes from; a baseline missing there
shows "—". Percent metrics are shown in percent, FID as it is.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from baselines.checkpoints import ensure_checkpoint  # noqa: E402
from baselines.cli import built_benchmark  # noqa: E402
from baselines.evaluation import run_prediction  # noqa: E402
from baselines.registry import Baseline, baselines_for  # noqa: E402
from datasets.build import BuiltBenchmark  # noqa: E402
from datasets.spec import ordered_slugs  # noqa: E402
from evaluator.scoring import EvaluationResult, compare_evidence, score_outputs  # noqa: E402

EXTRACTOR = "seeded-inception"


@dataclass(frozen=True)
class PaperFigure:
    value: float
    source: str


@dataclass(frozen=True)
class Target:
    """The target band for the best baseline's leaderboard metric (display units), and an optional
    ceiling on a second metric of that baseline (illustration: top-5 precision below 99 %)."""

    low: float | None
    high: float | None
    scale: float
    ceiling: tuple[str, float] | None = None


PAPER: dict[str, PaperFigure] = {
    "toonnet-resnet": PaperFigure(34.7, "ToonNet Table 1, ResNet-101 custom (top-1 error %)"),
    "toonnet-ius": PaperFigure(34.4, "ToonNet Table 1, ResNet-101 with IUS"),
    "toonnet-fin": PaperFigure(33.0, "ToonNet Table 2, R-101 RGB with FIN"),
    "toonnet-npn": PaperFigure(22.4, "ToonNet Table 3, NPN-3 (R-101, G-v3, G-v3-FIN)"),
    "illustration-cnn-svm": PaperFigure(62.04, "Lagunas & Garces Table 3, baseline VGG19 + SVM (top-1 precision %)"),
    "illustration-cnn-svm-optimized": PaperFigure(86.61, "Lagunas & Garces Table 3, optimized VGG19 + SVM"),
    "icartoonface-softmax": PaperFigure(57.07, "iCartoonFace Table 4, SoftMax (rank-1 %)"),
    "icartoonface-sphereface": PaperFigure(57.77, "iCartoonFace Table 4, SphereFace"),
    "icartoonface-cosface": PaperFigure(68.91, "iCartoonFace Table 4, CosFace"),
    "icartoonface-arcface": PaperFigure(66.64, "iCartoonFace Table 4, ArcFace"),
    "icartoonface-densenet-softmax": PaperFigure(57.07, "iCartoonFace Table 4, SoftMax on DenseNet-169 (Table 2 backbone)"),
    "cartoon-cartoongan": PaperFigure(143.55, "Semantic-aware Cartoon Style Transfer Table 1, CartoonGAN (FID with cartoon)"),
    "cartoon-whitebox": PaperFigure(124.72, "Semantic-aware Cartoon Style Transfer Table 1, White-box (FID with cartoon)"),
    "cartoon-semantic": PaperFigure(122.51, "Semantic-aware Cartoon Style Transfer Table 1, semantic-aware (FID with cartoon)"),
}

TARGETS: dict[str, Target] = {
    "toonnet": Target(15.0, 35.0, 100.0),
    "illustration": Target(70.0, 90.0, 100.0, ceiling=("top5_precision", 99.0)),
    "icartoonface": Target(40.0, 70.0, 100.0),
    "cartoonization": Target(None, None, 1.0),
}


@dataclass(frozen=True)
class Row:
    name: str
    value: float
    low: float
    high: float
    train_seconds: float
    result: EvaluationResult


@dataclass(frozen=True)
class BenchmarkReport:
    slug: str
    profile: str
    metric: str
    higher_is_better: bool
    rows: list[Row]
    best: Row
    worst: Row
    band_met: bool | None
    p_value: float | None


def score_baseline(baseline: Baseline, built: BuiltBenchmark, checkpoint: Path | None) -> EvaluationResult:
    """The evaluator's result, evidence included, for one baseline's predictions on the test split."""
    with tempfile.TemporaryDirectory(prefix=f"calibration-{baseline.name}-") as folder:
        output_dir = run_prediction(baseline, built, checkpoint, Path(folder))
        return score_outputs(built, output_dir, extractor=EXTRACTOR)


def best_and_worst(rows: list[Row], higher_is_better: bool) -> tuple[Row, Row]:
    """The rows with the best and the worst leaderboard value (first one on ties)."""
    ordered = sorted(rows, key=lambda row: -row.value if higher_is_better else row.value)
    return ordered[0], ordered[-1]


def band_met(best: Row, target: Target) -> bool | None:
    """Whether the best row's value (scaled) lies in the band and under the ceiling; None without a band."""
    if target.low is None or target.high is None:
        return None
    inside = target.low <= best.value * target.scale <= target.high
    if target.ceiling is None:
        return inside
    metric, limit = target.ceiling
    return inside and best.result.metrics[metric] * target.scale < limit


def paired_p_value(built: BuiltBenchmark, best: Row, worst: Row) -> float | None:
    """Two-sided p-value of the rank metric's paired difference, best minus worst; None for one row."""
    if best.name == worst.name:
        return None
    metric = built.spec.rank_metric
    return compare_evidence(metric.fn, metric.params, best.result.evidence, worst.result.evidence).p_value


def calibrate_benchmark(slug: str, data_root: Path | None, profile: str | None, checkpoints: Path | None,
                        retrain: bool = False) -> BenchmarkReport:
    """Build ``slug``, train what is missing, score each of its own baselines and compare best with worst."""
    built = built_benchmark(slug, data_root, profile)
    metric = built.spec.rank_metric
    rows = []
    for baseline in tqdm(baselines_for(slug), desc=slug, unit="baseline"):
        started = time.perf_counter()
        checkpoint = ensure_checkpoint(baseline, built, checkpoints, retrain=retrain)
        seconds = time.perf_counter() - started
        result = score_baseline(baseline, built, checkpoint)
        low, high = result.ci95[metric.name]
        rows.append(Row(baseline.name, result.metrics[metric.name], low, high, seconds, result))
    best, worst = best_and_worst(rows, metric.higher_is_better)
    return BenchmarkReport(slug, built.spec.profile, metric.name, metric.higher_is_better, rows, best, worst,
                           band_met(best, TARGETS[slug]), paired_p_value(built, best, worst))


def paper_order(names: list[str], higher_is_better: bool) -> list[str]:
    """The baselines that have a paper figure, best first by that figure."""
    known = [name for name in names if name in PAPER]
    return sorted(known, key=lambda name: -PAPER[name].value if higher_is_better else PAPER[name].value)


def render(report: BenchmarkReport) -> str:
    """The report as markdown: a table, then the band, the paired test and the two orderings."""
    target = TARGETS[report.slug]
    unit = " %" if target.scale == 100.0 else ""
    direction = "higher" if report.higher_is_better else "lower"
    lines = [
        f"### {report.slug} ({report.metric}, {direction} is better; profile {report.profile})",
        "",
        "| baseline | ours | 95% interval | paper | paper source | train s |",
        "| --- | ---: | --- | ---: | --- | ---: |",
    ]
    for row in report.rows:
        paper = PAPER.get(row.name)
        lines.append(
            f"| {row.name} | {row.value * target.scale:.2f}{unit} | {row.low * target.scale:.2f} – {row.high * target.scale:.2f} "
            f"| {f'{paper.value:.2f}{unit}' if paper else '—'} | {paper.source if paper else '—'} | {row.train_seconds:.1f} |"
        )
    lines.append("")
    best_value = f"{report.best.name} {report.best.value * target.scale:.2f}{unit}"
    if report.band_met is None:
        lines.append(f"- target band: none set (best: {best_value})")
    else:
        ceiling = f", {target.ceiling[0]} below {target.ceiling[1]:g}{unit}" if target.ceiling else ""
        verdict = "met" if report.band_met else "NOT met"
        lines.append(f"- target band for the best: {target.low:g}–{target.high:g}{unit}{ceiling}: {verdict} (best: {best_value})")
    if report.p_value is None:
        lines.append("- paired test: one baseline only")
    else:
        lines.append(f"- paired test, best ({report.best.name}) vs worst ({report.worst.name}): p = {report.p_value:.4g}")
    ours = [row.name for row in sorted(report.rows, key=lambda r: -r.value if report.higher_is_better else r.value)]
    papers = paper_order([row.name for row in report.rows], report.higher_is_better)
    lines.append(f"- paper's order, best first: {', '.join(papers) if papers else '—'}")
    lines.append(f"- our order, best first: {', '.join(ours)}")
    return "\n".join(lines) + "\n"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="built benchmarks root (default: $TOONBENCH_DATA_ROOT or ./data)")
    parser.add_argument("--profile", default="default", help="profile to build (default, tiny)")
    parser.add_argument("--only", action="append", default=None, metavar="SLUG", help="only this benchmark (repeatable)")
    parser.add_argument("--checkpoints", type=Path, default=None, help="checkpoint cache (default: $TOONBENCH_CHECKPOINTS or ./var/checkpoints)")
    parser.add_argument("--retrain", action="store_true", help="train even when a checkpoint exists")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    slugs = args.only or [slug for slug in ordered_slugs() if slug in TARGETS]
    for slug in slugs:
        if slug not in TARGETS:
            print(f"error: no calibration target for benchmark {slug!r} (known: {', '.join(TARGETS)})", file=sys.stderr)
            return 2
    for slug in slugs:
        print(render(calibrate_benchmark(slug, args.data, args.profile, args.checkpoints, args.retrain)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
