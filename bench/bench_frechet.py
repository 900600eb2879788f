"""Fréchet distance of two 2048-d Gaussians: ours vs pytorch-fid's scipy ``sqrtm`` formula.

    .venv/bin/python bench/bench_frechet.py [--dim 2048] [--samples 4096] [--repeats 3]

Prints both timings (best of ``--repeats``), the ratio and the absolute difference.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluator.metrics.frechet import frechet_distance, gaussian_stats  # noqa: E402


def best_time(fn, repeats: int) -> tuple[float, float]:
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return min(times), float(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dim", type=int, default=2048)
    parser.add_argument("--samples", type=int, default=4096, help="rows per Gaussian's sample")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    from pytorch_fid.fid_score import calculate_frechet_distance

    rng = np.random.default_rng(0)
    mixing = rng.standard_normal((args.dim, args.dim)) / np.sqrt(args.dim)
    first = gaussian_stats(np.abs(rng.standard_normal((args.samples, args.dim)) @ mixing))
    second = gaussian_stats(np.abs(rng.standard_normal((args.samples, args.dim)) @ mixing) + 0.05)

    ours_s, ours = best_time(lambda: frechet_distance(*first, *second), args.repeats)
    with warnings.catch_warnings():  # scipy deprecates sqrtm(disp=False), which pytorch-fid uses
        warnings.simplefilter("ignore", DeprecationWarning)
        peer_s, peer = best_time(lambda: calculate_frechet_distance(*first, *second), args.repeats)

    figures = {"benchmark": f"frechet distance {args.dim}-d", "ours_s": ours_s, "peer_s": peer_s,
               "speedup": peer_s / ours_s, "ours": ours, "peer": peer, "abs_diff": abs(ours - peer)}
    print(f"Fréchet distance, {args.dim}-d covariances from {args.samples} samples, "
          f"best of {args.repeats}")
    print(f"  ours (eigvalsh, float64):         {ours_s:8.3f} s   value {ours:.6f}")
    print(f"  pytorch-fid (scipy sqrtm):        {peer_s:8.3f} s   value {peer:.6f}")
    print(f"  speed-up {peer_s / ours_s:.1f}x   |difference| {abs(ours - peer):.2e}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
