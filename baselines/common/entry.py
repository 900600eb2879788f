"""The predict entrypoint every baseline's ``predict.py`` runs: ``predict.py INPUT OUTPUT [--checkpoint PATH]``."""

from __future__ import annotations

import argparse
import os
import random
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from baselines.common.device import DEVICE_VARIABLE, choose_device, use_device

PredictFn = Callable[[Path, Path, Path | None], None]


def torch_threads() -> int:
    """Torch's thread count for baselines (``TOONBENCH_THREADS``, default 1).

    One thread by default: these networks are small, and on a busy machine
    two OpenMP threads waiting on each other ran 4-8 times slower than one.
    """
    return int(os.environ.get("TOONBENCH_THREADS", "1"))


def run_predict(predict: PredictFn, argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run a baseline on a container input folder (DESIGN.md §3).")
    parser.add_argument("input_dir", type=Path, help="folder with manifest.json and images/ (the container's /input)")
    parser.add_argument("output_dir", type=Path, help="folder to write the predictions to (the container's /output)")
    parser.add_argument("--checkpoint", type=Path, default=None, help="trained weights (.npz, written by python -m baselines train)")
    args = parser.parse_args(argv)
    random.seed(0)
    np.random.seed(0)
    try:
        _seed_torch()
        predict(args.input_dir, args.output_dir, args.checkpoint)
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def _seed_torch() -> None:
    """Seed torch, pin its threads and choose the device, where the baseline loaded torch.

    Only the learned baselines load torch; the image filters stay light.
    """
    torch = sys.modules.get("torch")
    if torch is None:
        return
    torch.manual_seed(0)
    torch.set_num_threads(torch_threads())
    use_device(choose_device(os.environ.get(DEVICE_VARIABLE), torch.cuda.is_available()))
