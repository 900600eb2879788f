"""``python -m baselines.build_images [--only NAME ...] [--data ROOT]``: build the runtime and baseline images.

What ``scripts/build-baseline-images.sh`` runs. A learned baseline whose
checkpoint is not trained yet is listed as not built; ``manage.py
ensure_baselines`` builds it after training it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import docker
import docker.errors

from baselines.images import build_images
from baselines.registry import all_baselines, get_baseline


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the runtime image and one model image per bundled baseline.")
    parser.add_argument("--only", nargs="*", default=None, help="only these baselines (default: all)")
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("TOONBENCH_DATA_ROOT", "data")),
                        help="built benchmarks, for the protocol whose checkpoints go in (default: TOONBENCH_DATA_ROOT or data)")
    args = parser.parse_args(argv)
    try:
        client = docker.from_env(timeout=600)
        client.ping()
    except docker.errors.DockerException as error:
        print(f"error: no Docker engine answers ({error}); start one with scripts/services/docker.sh", file=sys.stderr)
        return 2
    baselines = [get_baseline(name) for name in args.only] if args.only else all_baselines()
    try:
        built = build_images(client, baselines, args.data)
    except (RuntimeError, docker.errors.DockerException) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for name, outcome in built.items():
        print(f"{name}: {outcome}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
