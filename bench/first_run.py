"""Time the first ``./scripts/run.sh`` of a fresh clone until every bundled baseline is on its leaderboard.

    python bench/first_run.py [--no-engine] [--port 8765] [--timeout-min 40]

Clones the repository's HEAD into a scratch folder (nothing of this
checkout's ``.venv``, ``data`` or ``var`` comes along; pip's own wheel cache
and the Docker engine's images are the machine's), starts ``run.sh`` there
and polls the leaderboard API once every few seconds. It prints when the
site first answers, when each baseline row appears, and the total, then
stops the run. ``--no-engine`` hides the Docker engine from the run
(``DOCKER_HOST`` pointing nowhere), so baselines run as local commands. The
figure to compare with is the first-run goal in README (there is no peer
to run beside it: the run itself is what is measured).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from baselines.registry import all_baselines  # noqa: E402


def expected_rows() -> dict[str, set[str]]:
    """Benchmark slug → the methods of its bundled baselines."""
    rows: dict[str, set[str]] = {}
    for baseline in all_baselines():
        rows.setdefault(baseline.benchmark, set()).add(baseline.method)
    return rows


def baseline_methods(server: str, slug: str) -> set[str] | None:
    """Methods of the baseline rows on ``slug``'s board, or None while the site does not answer."""
    try:
        answer = requests.get(f"{server}/api/benchmarks/{slug}/leaderboard/", params={"view": "all"}, timeout=10)
    except requests.RequestException:
        return None
    if answer.status_code != 200:
        return None
    return {row["method"] for row in answer.json().get("rows", []) if row.get("baseline")}


def minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"


def watch(server: str, expected: dict[str, set[str]], started: float, deadline: float) -> bool:
    """Poll until every expected row is there (True) or the deadline passes (False), printing each arrival."""
    seen: set[tuple[str, str]] = set()
    site_up = False
    total = sum(len(methods) for methods in expected.values())
    while time.monotonic() < deadline:
        for slug, methods in expected.items():
            present = baseline_methods(server, slug)
            if present is None:
                continue
            if not site_up:
                site_up = True
                print(f"{minutes(time.monotonic() - started)}  the site answers", flush=True)
            for method in sorted(present & methods):
                if (slug, method) not in seen:
                    seen.add((slug, method))
                    print(f"{minutes(time.monotonic() - started)}  {slug}: {method} ({len(seen)}/{total})", flush=True)
        if len(seen) == total:
            return True
        time.sleep(5)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-engine", action="store_true", help="hide the Docker engine: baselines run as local commands")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--timeout-min", type=float, default=40.0)
    parser.add_argument("--keep", action="store_true", help="keep the scratch clone (its var/log holds the logs)")
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="toonbench-first-run-"))
    clone = scratch / "toonbench"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(clone)], check=True)
    env = {**os.environ, "TOONBENCH_PORT": str(args.port)}
    if args.no_engine:
        env["DOCKER_HOST"] = f"unix://{scratch}/no-engine.sock"
    log = (scratch / "run.log").open("w")
    started = time.monotonic()
    run = subprocess.Popen(["./scripts/run.sh"], cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    print(f"clone: {clone}; run.sh log: {scratch / 'run.log'}; engine: {'hidden' if args.no_engine else 'as found'}", flush=True)
    try:
        done = watch(f"http://127.0.0.1:{args.port}", expected_rows(), started, started + args.timeout_min * 60)
    finally:
        os.killpg(run.pid, signal.SIGTERM)
        run.wait(timeout=60)
        # The registry run.sh started is a daemon of its own session; it serves from the scratch clone.
        subprocess.run(["pkill", "-f", str(scratch)], check=False)
    elapsed = time.monotonic() - started
    print(f"{'every baseline on its leaderboard' if done else 'stopped at the timeout'} after {minutes(elapsed)}")
    if not args.keep:
        subprocess.run(["rm", "-rf", str(scratch)], check=False)
    return 0 if done else 1


if __name__ == "__main__":
    sys.exit(main())
