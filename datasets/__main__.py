"""Benchmark command line.

    python -m datasets list
    python -m datasets validate [SPEC.yaml ...]
    python -m datasets build <slug|all> [--data ROOT] [--profile P] [--source auto|synthetic|real]
                             [--dev | --server] [--force]

``build`` makes the server split when a build secret is configured
(``$TOONBENCH_BUILD_SECRET`` or ``ROOT/.build-secret``), the public
development split otherwise; ``--server`` makes the server split and
generates ``ROOT/.build-secret`` if there is no secret yet, ``--dev`` (or
``--public``) makes the development split whatever is configured.
``--profile`` is default, tiny, official or one the spec declares (a sweep
step, such as icartoonface's ``enlarge_0.6``). ``validate`` checks every
spec's data side (adapter, generator, split) in every profile without
building anything and exits 1 if any is invalid;
``python -m evaluator validate`` checks the whole spec, tasks and metrics
included. The participants' bundle is written by ``python -m evaluator
bundle``. Other errors end with one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from datasets.build import BuiltBenchmark, build_benchmark
from datasets.paths import default_data_root
from datasets.secret import ensure_build_secret, find_build_secret
from datasets.spec import PROFILES, SpecError, available_slugs, load_spec, spec_path, validation_lines

EXIT_INVALID = 1
EXIT_ERROR = 2


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except (OSError, ValueError, LookupError) as exc:  # SpecError, AdapterError, RegistryError, missing files
        message = " ".join(str(exc).split())
        print(f"error: {message}", file=sys.stderr)
        return EXIT_ERROR


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m datasets", description="ToonBench benchmark specs and data")
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="list the benchmarks")
    listing.set_defaults(run=_list)

    validate = commands.add_parser("validate", help="validate specs without building anything")
    validate.add_argument("paths", nargs="*", type=Path, help="spec files (default: every benchmark)")
    validate.set_defaults(run=_validate)

    build = commands.add_parser("build", help="build a benchmark's images, manifest and protocol")
    build.add_argument("slug", help="benchmark slug, or 'all'")
    _data_argument(build)
    build.add_argument("--profile", default="default",
                       help=f"{', '.join(PROFILES)}, or one the spec declares (a sweep step such as icartoonface's enlarge_0.6)")
    build.add_argument("--source", choices=("auto", "synthetic", "real"), default="auto")
    build.add_argument("--force", action="store_true", help="rebuild even when the build is current")
    split = build.add_mutually_exclusive_group()
    split.add_argument("--dev", "--public", dest="split", action="store_const", const="dev",
                       help="build the public development split from the spec's seeds (anyone can rebuild it)")
    split.add_argument("--server", dest="split", action="store_const", const="server",
                       help="build the server split, keyed by the build secret (generated under ROOT if missing)")
    build.set_defaults(run=_build)
    return parser


def _data_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=None, help="built benchmarks root (default: $TOONBENCH_DATA_ROOT or ./data)")


def _list(args: argparse.Namespace) -> int:
    for slug in available_slugs():
        try:
            spec = load_spec(slug)
        except SpecError:
            print(f"{slug:<15} {'(invalid spec)':<28} run: python -m datasets validate")
        else:
            print(f"{slug:<15} {spec.task:<28} {spec.title}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    paths = args.paths or [spec_path(slug) for slug in available_slugs()]
    lines, passed = validation_lines(paths, load_spec)
    print("\n".join(lines))
    return 0 if passed else EXIT_INVALID


def _build(args: argparse.Namespace) -> int:
    root = args.data or default_data_root()
    slugs = available_slugs() if args.slug == "all" else [args.slug]
    secret = build_secret(args.split, root)
    for slug in slugs:
        built = build_benchmark(slug, root, profile=args.profile, source=args.source, force=args.force, secret=secret)
        print(f"{slug}: {built.folder} ({built.source}, profile {built.spec.profile}, {split_words(built)})")
        for line in count_lines(built):
            print(f"  {line}")
        print(f"  protocol hash {built.protocol_hash}")
    return 0


def build_secret(split: str | None, root: Path) -> str | None:
    """The secret a build uses: none for ``--dev``, the configured (or a new) one for ``--server``,
    the configured one if any otherwise."""
    if split == "dev":
        return None
    if split == "server":
        return ensure_build_secret(root)
    return find_build_secret(root)


def split_words(built: BuiltBenchmark) -> str:
    if built.keyed:
        return "server split, keyed by the build secret"
    return "public development split: anyone can rebuild its test truth"


def count_lines(built: BuiltBenchmark) -> list[str]:
    """Items per split (and per domain when items have one), and role sizes when there are roles."""
    splits = Counter(item.split for item in built.items)
    lines = [f"{split}: {splits.get(split, 0)}" for split in ("train", "test")]
    if any(item.domain is not None for item in built.items):
        domains = Counter((item.split, item.domain) for item in built.items)
        lines = [f"{split}: {domains.get((split, 'photo'), 0)} photos, {domains.get((split, 'cartoon'), 0)} cartoons"
                 for split in ("train", "test")]
    if built.roles is not None:
        positives = sum(1 for _, _, same in built.roles.pairs if same)
        lines.append(f"probes: {len(built.roles.probes)}, gallery: {len(built.roles.gallery)}")
        lines.append(f"pairs: {positives} positive, {len(built.roles.pairs) - positives} negative")
    return lines


if __name__ == "__main__":
    sys.exit(main())
