"""Overhead of one sandboxed evaluation run, against a plain ``docker run --rm`` of the same image.

Measures, N times each, the wall-clock time of:
  - runner: ``DockerRunner.run`` of a no-op container (create, attach, start,
    wait, output check, remove) until the RunResult is back;
  - runner+scoring: a container that writes all-zero scores for the tiny
    toonnet benchmark, then ``evaluator.scoring.score_outputs`` on them;
  - peer: ``docker run --rm --network none`` of the same no-op command via
    the CLI, the engine's own floor.
Prints median and p95 per case and the runner/peer ratio. Goal: runner median <= 2 s.

Usage: python bench/bench_runner_overhead.py [--runs 10] [--image IMAGE] [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluator.runners import DockerRunner, RunLimits  # noqa: E402

GOAL_S = 2.0
LIMITS = RunLimits(timeout_s=60, memory_gb=1, cpus=1, pids=64, gpus=0, output_mb=16)
WRITE_ZERO_SCORES = (
    "import json, numpy as np; m = json.load(open('/input/manifest.json')); "
    "np.save('/output/scores.npy', np.zeros((len(m['items']), len(m['classes'])), np.float32))"
)


def timed(action: Callable[[], object], runs: int, label: str) -> list[float]:
    durations = []
    for _ in tqdm(range(runs), desc=label, unit="run", leave=False):
        started = time.perf_counter()
        action()
        durations.append(time.perf_counter() - started)
    return durations


def summary(durations: list[float]) -> dict[str, float]:
    return {
        "median_s": float(np.median(durations)),
        "p95_s": float(np.percentile(durations, 95)),
        "runs": len(durations),
    }


def runner_case(image: str, input_dir: Path, scratch: Path, command: list[str], score: Callable[[Path], object] | None):
    runner = DockerRunner(image, command=command)
    counter = iter(range(10**9))

    def run_once() -> None:
        output_dir = scratch / f"out-{next(counter)}"
        result = runner.run(input_dir, output_dir, LIMITS)
        if result.status != "finished":
            raise SystemExit(f"the benchmark run ended {result.status}: {result.reason}\n{result.log_tail}")
        if score is not None:
            score(output_dir)

    return run_once


def peer_case(image: str, input_dir: Path) -> Callable[[], None]:
    command = ["docker", "run", "--rm", "--network", "none", "-v", f"{input_dir}:/input:ro", image, "true"]
    return lambda: subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--image", default="toonbench/python-numpy:base")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    from datasets.build import build_benchmark
    from evaluator.contract import prepare_input
    from evaluator.scoring import score_outputs

    with tempfile.TemporaryDirectory(prefix="toonbench-bench-") as tmp:
        scratch = Path(tmp)
        built = build_benchmark("toonnet", scratch / "data", profile="tiny")
        input_dir = prepare_input(built, scratch / "input")
        cases = {
            "runner": runner_case(args.image, input_dir, scratch, ["true"], None),
            "runner+scoring": runner_case(
                args.image,
                input_dir,
                scratch,
                ["python3", "-c", WRITE_ZERO_SCORES],
                lambda output: score_outputs(built, output, resamples=100),
            ),
            "peer docker run --rm": peer_case(args.image, input_dir),
        }
        for action in cases.values():  # warm-up: page cache, first-use costs
            action()
        results = {name: summary(timed(action, args.runs, name)) for name, action in cases.items()}

    ratio = results["runner"]["median_s"] / results["peer docker run --rm"]["median_s"]
    report = {"cases": results, "runner_over_peer": ratio, "goal_s": GOAL_S, "image": args.image}
    if args.json:
        print(json.dumps(report, indent=1))
        return
    for name, figures in results.items():
        median, p95, runs = figures["median_s"], figures["p95_s"], figures["runs"]
        print(f"{name:24s} median {median:.2f} s   p95 {p95:.2f} s   ({runs} runs)")
    verdict = "meets" if results["runner"]["median_s"] <= GOAL_S else "misses"
    print(f"runner / peer (median): {ratio:.2f}x; runner {verdict} the {GOAL_S:g} s goal")


if __name__ == "__main__":
    main()
