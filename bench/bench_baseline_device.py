"""Time each bundled baseline's predict step on the CPU and on a GPU, on the same built benchmark.

    python bench/bench_baseline_device.py [--profile tiny] [--only NAME ...] [--device cuda] [--json PATH]

Builds the chosen benchmarks into a scratch folder (or reads ``--data``),
trains or reuses each baseline's checkpoint (training is CPU-only, as
always), then runs its predict command twice through the local runner, as
its image's entry point runs: with ``TOONBENCH_DEVICE=cpu`` (the peer) and
with ``--device`` (``cuda`` by default). It prints the seconds of each run
and the ratio, per baseline. Predictions must agree between devices to the
metric a leaderboard shows, so the script scores both runs and prints the
difference. Without a CUDA device only the CPU column is filled
(``--device cpu`` runs the CPU twice: the difference is then zero).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from baselines.checkpoints import ensure_checkpoint  # noqa: E402
from baselines.common.device import DEVICE_VARIABLE  # noqa: E402
from baselines.evaluation import run_prediction  # noqa: E402
from baselines.registry import Baseline, all_baselines, get_baseline  # noqa: E402
from datasets.build import BuiltBenchmark, build_benchmark, load_built  # noqa: E402
from evaluator.scoring import score_outputs  # noqa: E402


def cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def timed_predict(baseline: Baseline, built: BuiltBenchmark, checkpoint: Path | None, device: str,
                  extractor: str) -> tuple[float, float]:
    """Seconds of one predict run on ``device`` and the leaderboard's rank metric of its outputs."""
    os.environ[DEVICE_VARIABLE] = device
    with tempfile.TemporaryDirectory(prefix=f"{baseline.name}-{device}-") as folder:
        started = time.perf_counter()
        outputs = run_prediction(baseline, built, checkpoint, Path(folder))
        seconds = time.perf_counter() - started
        metrics = score_outputs(built, outputs, resamples=10, extractor=extractor).metrics
    return seconds, float(metrics[built.spec.leaderboard.rank_by])


def built_benchmark(slug: str, data: Path, profile: str) -> BuiltBenchmark:
    try:
        return load_built(slug, data)
    except (FileNotFoundError, ValueError):
        build_benchmark(slug, data, profile=profile)
        return load_built(slug, data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="these baselines (default: all)")
    parser.add_argument("--profile", default="tiny", help="dataset profile when the benchmarks are built here (default: tiny)")
    parser.add_argument("--data", type=Path, default=None, help="built benchmarks to read (default: build into a scratch folder)")
    parser.add_argument("--device", default="cuda", help="the device measured against the CPU (default: cuda)")
    parser.add_argument("--extractor", default="seeded-inception",
                        help="FID's feature extractor for cartoonization's metric (default: seeded-inception; 'standard' needs its weights)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)

    baselines = [get_baseline(name) for name in args.only] if args.only else all_baselines()
    data = args.data or Path(tempfile.mkdtemp(prefix="toonbench-device-bench-"))
    os.environ.setdefault("TOONBENCH_CHECKPOINTS", str(data / "checkpoints"))
    measured = args.device == "cpu" or cuda_available()
    print(f"device {args.device}: {'measured' if measured else 'not available; CPU column only'}; data {data}", flush=True)
    print(f"{'baseline':40} {'cpu s':>8} {args.device + ' s':>8} {'cpu/' + args.device:>9} {'metric diff':>12}")
    figures = []
    for baseline in baselines:
        built = built_benchmark(baseline.benchmark, data, args.profile)
        checkpoint = ensure_checkpoint(baseline, built)
        cpu_s, cpu_metric = timed_predict(baseline, built, checkpoint, "cpu", args.extractor)
        row = {"baseline": baseline.name, "cpu_s": cpu_s, "device_s": None, "ratio": None, "metric_diff": None}
        if measured:
            device_s, device_metric = timed_predict(baseline, built, checkpoint, args.device, args.extractor)
            row.update(device_s=device_s, ratio=cpu_s / device_s, metric_diff=abs(device_metric - cpu_metric))
        figures.append(row)
        device_cells = (f"{row['device_s']:8.2f} {row['ratio']:8.1f}x {row['metric_diff']:12.2e}" if measured
                        else f"{'-':>8} {'-':>9} {'-':>12}")
        print(f"{baseline.name:40} {cpu_s:8.2f} {device_cells}", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"device": args.device, "profile": args.profile, "rows": figures}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
