"""``python -m baselines``: train missing checkpoints, run a baseline's predict, score them all.

    python -m baselines list [--json]
    python -m baselines train [--benchmark SLUG] [--only NAME] [--data ROOT] [--profile P] [--retrain]
    python -m baselines predict NAME INPUT_DIR OUTPUT_DIR [--checkpoint PATH]
    python -m baselines evaluate [--benchmark SLUG] [--only NAME] [--data ROOT] [--profile P] [--extractor NAME]

Checkpoints go under ``$TOONBENCH_CHECKPOINTS`` (default ``<repo>/var/checkpoints``),
one per protocol hash; ``train`` skips those already there.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from baselines.registry import Baseline, all_baselines, ensure_checkpoint, get_baseline

BENCHMARK_ORDER = ("toonnet", "illustration", "icartoonface", "cartoonization")


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
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=_list)

    for name, run, help_text in (("train", _train, "train missing checkpoints"), ("evaluate", _evaluate, "train, predict and score")):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--benchmark", choices=BENCHMARK_ORDER, default=None, help="only this benchmark's baselines")
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
    baselines = all_baselines()
    if args.json:
        print(json.dumps([baseline.to_dict() for baseline in baselines], indent=1))
        return 0
    for baseline in baselines:
        trained = "trained" if baseline.needs_training else "no training"
        print(f"{baseline.name:<32} {baseline.benchmark:<15} {baseline.method:<24} {trained}")
    return 0


def selected(args: argparse.Namespace) -> list[Baseline]:
    chosen = [get_baseline(name) for name in args.only] if args.only else all_baselines()
    if args.benchmark:
        chosen = [baseline for baseline in chosen if baseline.benchmark == args.benchmark]
    return sorted(chosen, key=lambda b: (BENCHMARK_ORDER.index(b.benchmark), b.name))


def built_benchmark(slug: str, data_root: Path | None, profile: str | None) -> Any:
    """The built benchmark, building it first when missing or when a profile is asked for."""
    from datasets.build import build_benchmark, load_built
    from datasets.paths import default_data_root

    root = data_root or default_data_root()
    if profile is not None:
        return build_benchmark(slug, root, profile)
    try:
        return load_built(slug, root)
    except FileNotFoundError:
        return build_benchmark(slug, root, "default")


def train_selected(args: argparse.Namespace) -> dict[str, tuple[Any, Path | None, float]]:
    """Ensure each selected baseline's checkpoint; returns name -> (built, checkpoint, seconds)."""
    done: dict[str, tuple[Any, Path | None, float]] = {}
    built_by_slug: dict[str, Any] = {}
    for baseline in selected(args):
        if baseline.benchmark not in built_by_slug:
            built_by_slug[baseline.benchmark] = built_benchmark(baseline.benchmark, args.data, args.profile)
        built = built_by_slug[baseline.benchmark]
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
    from baselines.checkpoints import checkpoint_path

    baseline = get_baseline(args.name)
    checkpoint = args.checkpoint
    if baseline.needs_training and checkpoint is None:
        manifest_path = args.input_dir / "manifest.json"
        protocol = json.loads(manifest_path.read_text()).get("protocol_hash") if manifest_path.exists() else None
        if not protocol:
            raise ValueError(f"{manifest_path}: no protocol_hash to find the checkpoint by; pass --checkpoint")
        checkpoint = checkpoint_path(baseline.benchmark, baseline.name, protocol, args.checkpoints)
    baseline.predict_fn(args.input_dir, args.output_dir, checkpoint)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from baselines.evaluation import evaluate_baseline

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
