"""The dev kit: score an output folder, or write the /input folder a container sees.

    python -m evaluator score <slug> <output_dir> [--data ROOT] [--json] [--plots DIR]
                              [--extractor NAME] [--resamples N] [--device DEV]
    python -m evaluator prepare <slug> <dest> [--data ROOT]
    python -m evaluator bundle <slug> [--data ROOT] [--out PATH]
    python -m evaluator validate [SPEC.yaml ...]

``score`` prints the metrics with their 95% intervals (``--json``: one JSON
object, metric name -> value plus ``ci95``, ``protocol_hash``, ``extractor``
and ``comparable``). Bad output or a missing benchmark ends with a non-zero
exit status and a one-line reason. ``bundle`` writes the participants'
protocol bundle (zip). ``validate`` checks whole specs (data side, task and
metrics) in both profiles and exits 1 if any is invalid.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from datasets.build import load_built
from datasets.paths import default_data_root
from datasets.spec import available_slugs, spec_path, validation_lines
from evaluator.bundle import export_bundle
from evaluator.contract import input_items, prepare_input
from evaluator.plots import draw_all
from evaluator.scoring import score_outputs
from evaluator.specs import load_spec
from evaluator.tasks import task_of
from evaluator.validation import OutputError

EXIT_BAD_OUTPUT = 1
EXIT_INVALID_SPEC = 1
EXIT_NOT_AVAILABLE = 2
RESERVED_KEYS = ("ci95", "protocol_hash", "extractor", "comparable")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except OutputError as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_BAD_OUTPUT
    except (OSError, ValueError, LookupError) as exc:  # missing benchmark, stale build, unknown name, missing weights
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_NOT_AVAILABLE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evaluator", description="ToonBench dev kit")
    commands = parser.add_subparsers(dest="command", required=True)

    score = commands.add_parser("score", help="score an output folder that obeys the container contract")
    score.add_argument("slug")
    score.add_argument("output_dir", type=Path)
    score.add_argument(
        "--data", type=Path, default=None, help="built benchmarks root (default: $TOONBENCH_DATA_ROOT or ./data)"
    )
    score.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    score.add_argument("--plots", type=Path, default=None, metavar="DIR", help="also draw the curves into DIR")
    score.add_argument(
        "--extractor", default=None, help="FID feature extractor (default: the standard pytorch-fid one)"
    )
    score.add_argument("--resamples", type=int, default=None, help="bootstrap resamples for the 95%% intervals")
    score.add_argument("--device", default=None, help="torch device for search and features (default: CUDA if present)")
    score.set_defaults(run=_score)

    prepare = commands.add_parser("prepare", help="write the /input folder a container would see")
    prepare.add_argument("slug")
    prepare.add_argument("dest", type=Path)
    prepare.add_argument("--data", type=Path, default=None, help="built benchmarks root")
    prepare.set_defaults(run=_prepare)

    bundle = commands.add_parser("bundle", help="export the participants' protocol bundle (zip)")
    bundle.add_argument("slug")
    bundle.add_argument("--data", type=Path, default=None, help="built benchmarks root")
    bundle.add_argument("--out", type=Path, default=Path("."), help="zip file or folder (default: current folder)")
    bundle.set_defaults(run=_bundle)

    validate = commands.add_parser("validate", help="check whole specs: data side, task and metrics")
    validate.add_argument("paths", nargs="*", type=Path, help="spec files (default: every benchmark)")
    validate.set_defaults(run=_validate)
    return parser


def _score(args: argparse.Namespace) -> int:
    if args.resamples is not None and args.resamples < 1:
        raise ValueError(f"--resamples must be at least 1 (got {args.resamples})")
    built = load_built(args.slug, _data_root(args))
    result = score_outputs(
        built, args.output_dir, extractor=args.extractor, resamples=args.resamples, device=args.device,
    )
    if args.plots is not None:
        drawn = draw_all(result, args.plots, task_of(built.spec).figures)
        print(f"plots: {', '.join(str(path) for path in drawn)}", file=sys.stderr)
    print(json.dumps(summary(result), sort_keys=True) if args.json else table(result))
    return 0


def _prepare(args: argparse.Namespace) -> int:
    built = load_built(args.slug, _data_root(args))
    dest = prepare_input(built, args.dest)
    print(f"{dest}: manifest.json and {len(input_items(built))} images for {args.slug}")
    return 0


def _bundle(args: argparse.Namespace) -> int:
    print(export_bundle(args.slug, _data_root(args), args.out))
    return 0


def _validate(args: argparse.Namespace) -> int:
    paths = args.paths or [spec_path(slug) for slug in available_slugs()]
    lines, passed = validation_lines(paths, load_spec)
    print("\n".join(lines))
    return 0 if passed else EXIT_INVALID_SPEC


def summary(result: Any) -> dict[str, Any]:
    """The --json document: metric name -> value, plus ci95, protocol_hash, extractor, comparable."""
    clash = sorted(set(result.metrics) & set(RESERVED_KEYS))
    if clash:
        raise ValueError(f"metric names {clash} clash with the result's own keys")
    record = result.to_json()
    document: dict[str, Any] = dict(record["metrics"])
    document["ci95"] = record["ci95"]
    document["protocol_hash"] = result.protocol_hash
    document["extractor"] = record["extractor"]
    document["comparable"] = result.comparable
    return document


def table(result: Any) -> str:
    """Metric, value and 95% interval, one metric a line."""
    width = max(len(name) for name in result.metrics)
    lines = [f"{result.slug}  protocol {result.protocol_hash[:12]}", f"{'metric':<{width}}  {'value':>10}  95% CI"]
    for name, value in result.metrics.items():
        interval = result.ci95.get(name)
        shown = f"[{interval[0]:.4f}, {interval[1]:.4f}]" if interval else "-"
        lines.append(f"{name:<{width}}  {value:>10.4f}  {shown}")
    if result.extractor is not None:
        mark = "" if result.comparable else "  (non-standard: not comparable)"
        name, digest = result.extractor["name"], str(result.extractor["weights_sha256"])
        lines.append(f"features: {name} sha256 {digest[:12]}{mark}")
    return "\n".join(lines)


def _data_root(args: argparse.Namespace) -> Path:
    return args.data if args.data is not None else default_data_root()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if not isinstance(exc, KeyError) or not text.startswith("'") else text.strip("'")


if __name__ == "__main__":
    sys.exit(main())
