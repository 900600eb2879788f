"""``python -m baselines``: train missing checkpoints, run a baseline's predict, score them all.

    python -m baselines list [--benchmark SLUG] [--json]
    python -m baselines train [--benchmark SLUG] [--only NAME] [--data ROOT] [--profile P] [--retrain]
    python -m baselines predict NAME INPUT_DIR OUTPUT_DIR [--checkpoint PATH]
    python -m baselines evaluate [--benchmark SLUG] [--only NAME] [--data ROOT] [--profile P] [--extractor NAME]

``--benchmark`` alone picks that benchmark's own baselines; with ``--only``
the named baselines run on it, which any baseline of the benchmark's task
can (``list --benchmark SLUG`` shows them). Benchmarks come in their specs'
order. Checkpoints go under ``$TOONBENCH_CHECKPOINTS`` (default
``<repo>/var/checkpoints``), one per benchmark and protocol hash; ``train``
skips those already there.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from baselines.checkpoints import checkpoint_path, ensure_checkpoint
from baselines.evaluation import evaluate_baseline
from baselines.registry import Baseline, all_baselines, get_baseline
from datasets.build import BuiltBenchmark, build_benchmark, load_built
from datasets.paths import default_data_root
from datasets.spec import load_spec, ordered_slugs

Run = tuple[Baseline, str]  # a baseline and the benchmark it runs on


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except (OSError, ValueError, LookupError) as error:
        print(f"error: {' '.join(str(error).split())}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m baselines", description="ToonBench bundled baselines")
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="list the baselines")
    listing.add_argument("--benchmark", default=None, help="only the baselines that can run on this benchmark")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=_list)

    for name, run, help_text in (("train", _train, "train missing checkpoints"), ("evaluate", _evaluate, "train, predict and score")):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--benchmark", default=None, help="this benchmark's baselines, or the --only ones run on it")
        command.add_argument("--only", action="append", default=None, metavar="NAME", help="only this baseline (repeatable)")
        command.add_argument("--data", type=Path, default=None, help="built benchmarks root (default: $TOONBENCH_DATA_ROOT or ./data)")
        command.add_argument("--profile", default=None, help="build the benchmarks with this profile first (default, tiny)")
        command.add_argument("--checkpoints", type=Path, default=None, help="checkpoint cache (default: $TOONBENCH_CHECKPOINTS or ./var/checkpoints)")
        command.add_argument("--retrain", action="store_true", help="train even when a checkpoint exists")
        command.set_defaults(run=run)
    evaluate = commands.choices["evaluate"]
    evaluate.add_argument("--extractor", default="seeded-inception", help="FID feature extractor for cartoonization")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object: baseline -> metrics")

    predict = commands.add_parser("predict", help="run a baseline's predict entrypoint on an input folder")
    predict.add_argument("name")
    predict.add_argument("input_dir", type=Path)
    predict.add_argument("output_dir", type=Path)
    predict.add_argument("--checkpoint", type=Path, default=None, help="default: the cached one for the input's protocol hash")
    predict.add_argument("--checkpoints", type=Path, default=None, help="checkpoint cache root")
    predict.set_defaults(run=_predict)
    return parser


def _list(args: argparse.Namespace) -> int:
    baselines = in_benchmark_order(all_baselines())
    if args.benchmark:
        spec = load_spec(args.benchmark)
        baselines = [baseline for baseline in baselines if baseline.runs_on(spec)]
    if args.json:
        print(json.dumps([baseline.to_dict() for baseline in baselines], indent=1))
        return 0
    for baseline in baselines:
        trained = "trained" if baseline.needs_training else "no training"
        print(f"{baseline.name:<32} {baseline.benchmark:<15} {baseline.method:<24} {trained}")
    return 0


def in_benchmark_order(baselines: list[Baseline]) -> list[Baseline]:
    """By their benchmark's place in the specs' order, then by name."""
    position = {slug: index for index, slug in enumerate(ordered_slugs())}
    return sorted(baselines, key=lambda b: (position.get(b.benchmark, len(position)), b.name))


def selected(args: argparse.Namespace) -> list[Run]:
    """What to train or evaluate: each baseline on its own benchmark, or the ``--only`` ones on ``--benchmark``."""
    if args.only:
        return [(baseline, args.benchmark or baseline.benchmark) for baseline in map(get_baseline, args.only)]
    chosen = in_benchmark_order(all_baselines())
    if args.benchmark:
        load_spec(args.benchmark)
        chosen = [baseline for baseline in chosen if baseline.benchmark == args.benchmark]
        if not chosen:
            raise ValueError(
                f"benchmark {args.benchmark!r} has no baselines of its own; run others on it with --only NAME "
                f"(python -m baselines list --benchmark {args.benchmark} shows which can)"
            )
    return [(baseline, baseline.benchmark) for baseline in chosen]


def built_benchmark(slug: str, data_root: Path | None, profile: str | None) -> BuiltBenchmark:
    """The built benchmark, building it first when missing or when a profile is asked for."""
    root = data_root or default_data_root()
    if profile is not None:
        return build_benchmark(slug, root, profile)
    try:
        return load_built(slug, root)
    except FileNotFoundError:
        return build_benchmark(slug, root, "default")


def train_selected(args: argparse.Namespace) -> dict[str, tuple[BuiltBenchmark, Path | None, float]]:
    """Ensure each selected baseline's checkpoint; returns name -> (built, checkpoint, seconds)."""
    done: dict[str, tuple[BuiltBenchmark, Path | None, float]] = {}
    built_by_slug: dict[str, BuiltBenchmark] = {}
    for baseline, slug in selected(args):
        if slug not in built_by_slug:
            built_by_slug[slug] = built_benchmark(slug, args.data, args.profile)
        built = built_by_slug[slug]
        started = time.perf_counter()
        checkpoint = ensure_checkpoint(baseline, built, args.checkpoints, retrain=args.retrain)
        seconds = time.perf_counter() - started
        done[baseline.name] = (built, checkpoint, seconds)
        if baseline.needs_training:
            print(f"{baseline.name:<32} {seconds:7.1f}s  {checkpoint}", file=sys.stderr)
    return done


def _train(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    train_selected(args)
    print(f"total {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return 0


def _predict(args: argparse.Namespace) -> int:
    baseline = get_baseline(args.name)
    checkpoint = args.checkpoint
    if baseline.needs_training and checkpoint is None:
        manifest_path = args.input_dir / "manifest.json"
        manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
        if not manifest.get("slug") or not manifest.get("protocol_hash"):
            raise ValueError(f"{manifest_path}: no slug and protocol_hash to find the checkpoint by; pass --checkpoint")
        checkpoint = checkpoint_path(manifest["slug"], baseline.name, manifest["protocol_hash"], args.checkpoints)
    baseline.predict_fn(args.input_dir, args.output_dir, checkpoint)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    results = {}
    for name, (built, checkpoint, seconds) in train_selected(args).items():
        metrics = evaluate_baseline(get_baseline(name), built, checkpoint, extractor=args.extractor)
        results[name] = {"train_seconds": round(seconds, 1), **metrics}
        if not args.json:
            shown = "  ".join(f"{key}={value:.4f}" for key, value in metrics.items())
            print(f"{name:<32} {shown}")
    if args.json:
        print(json.dumps(results, indent=1, sort_keys=True))
    return 0
