"""Leaderboard page under load: 10,000 ranked submissions, gunicorn with production settings, 50 clients.

    .venv/bin/python bench/bench_leaderboard_load.py [--submissions 10000] [--clients 50]
        [--duration 10] [--warmup 2] [--max-requests 20000] [--workers 4] [--threads 2] [--json FILE]

Builds the tiny toonnet into a temporary folder, creates a SQLite site there
(migrate, sync, collectstatic), bulk-creates the submissions with their
results and ranking rows, serves the site with gunicorn on 127.0.0.1 (DEBUG=0,
WhiteNoise), then loads each URL with ``wrk`` (Debian package) or, without
it, a thread pool of Python clients bounded in requests and time, after an
untimed warm-up load of ``--warmup`` seconds (0: measure cold). Loopback
only. Prints p50/p95/p99 per URL and the ratio of the leaderboard's p95 to
its peers': a static file (WhiteNoise) and the home page, plus each URL's
median latency with one client alone (service time without queueing).
Goal: leaderboard p95 <= 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import requests

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "platform")]
GOAL_P95_MS = 50.0
WRK_REPORT = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
               + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", latency:percentile(50), latency:percentile(95),
           latency:percentile(99), summary.requests, errors, summary.duration))
end
"""


@dataclass
class Load:
    name: str
    url: str
    tool: str
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    alone_ms: float = 0.0  # median latency of one client alone: the service time without queueing

    @property
    def per_second(self) -> float:
        return self.requests / max(self.seconds, 1e-9)


def production_env(folder: Path) -> dict[str, str]:
    return {
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + "k" * 60,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{folder / 'site.sqlite3'}",
        "SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback; everything else stays production
        "TOONBENCH_VAR_DIR": str(folder / "var"),
        "TOONBENCH_DATA_ROOT": str(folder / "data"),
        "TOONBENCH_STATIC_ROOT": str(folder / "static"),
        "TOONBENCH_MEDIA_ROOT": str(folder / "media"),
        "TOONBENCH_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "toonbench_site.settings",
    }


def prepare_site(count: int, seed: int) -> None:
    """Build, migrate, sync, collect static files and create ``count`` finished submissions."""
    import django
    from django.core.management import call_command

    from datasets.build import build_benchmark

    build_benchmark("toonnet", Path(os.environ["TOONBENCH_DATA_ROOT"]), profile="tiny")
    django.setup()
    call_command("migrate", verbosity=0)
    call_command("sync_benchmarks", "toonnet", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    populate(count, seed)


def populate(count: int, seed: int, batch: int = 500) -> None:
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from tqdm import tqdm

    from benchmarks.models import Benchmark
    from results.models import MetricValue, Result
    from submissions.models import Status, Submission
    from teams.models import Team

    benchmark = Benchmark.objects.get(slug="toonnet")
    protocol = benchmark.current_version()
    # Two submissions per participant, each a team of one: the leaderboard shows one row per team.
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"user{index}", password="!") for index in range(max(count // 2, 1)))
    teams = Team.objects.bulk_create(Team(name=user.username, personal_for=user) for user in users)
    rng = np.random.default_rng(seed)
    # Errors on 72 test items move in steps of 1/72: many equal values, many overlapping intervals.
    top1 = np.round(rng.beta(6, 4, count) * 72) / 72
    top3 = np.clip(top1 - np.round(rng.uniform(0.1, 0.3, count) * 72) / 72, 0, 1)
    with tqdm(total=count, desc="submissions", unit="row") as bar:
        for start in range(0, count, batch):
            stop = min(start + batch, count)
            with transaction.atomic():
                submissions = Submission.objects.bulk_create(
                    Submission(owner=users[index % len(users)], team=teams[index % len(teams)],
                               benchmark=benchmark, protocol=protocol,
                               kind="predictions", method_name=f"method {index}", status=Status.FINISHED,
                               is_public=index % 10 != 0, is_baseline=index < 4,
                               paper_url="https://example.org/paper" if index % 3 == 0 else "")
                    for index in range(start, stop)
                )
                results = Result.objects.bulk_create(
                    Result(submission=submission, protocol_hash=protocol.protocol_hash,
                           metrics={"top1_error": top1[index], "top3_error": top3[index]},
                           ci95={"top1_error": interval(top1[index]), "top3_error": interval(top3[index])})
                    for index, submission in zip(range(start, stop), submissions)
                )
                MetricValue.objects.bulk_create(
                    MetricValue(result=result, submission=result.submission, benchmark=benchmark, protocol=protocol,
                                name=name, value=value, ci_low=interval(value)[0], ci_high=interval(value)[1])
                    for index, result in zip(range(start, stop), results)
                    for name, value in (("top1_error", top1[index]), ("top3_error", top3[index]))
                )
            bar.update(stop - start)


def interval(value: float, half_width: float = 0.1) -> list[float]:
    return [max(0.0, float(value) - half_width), min(1.0, float(value) + half_width)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_gunicorn(port: int, workers: int, threads: int, log: Path) -> subprocess.Popen[bytes]:
    command = [str(Path(sys.executable).with_name("gunicorn")), "--chdir", str(REPO_ROOT / "platform"),
               "toonbench_site.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
               "--worker-class", "gthread", "--threads", str(threads), "--log-level", "warning"]
    return subprocess.Popen(command, cwd=REPO_ROOT, stdout=open(log, "wb"), stderr=subprocess.STDOUT)


def wait_until_up(url: str, server: subprocess.Popen[bytes], log: Path, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}; see {log}:\n{log.read_text()[-2000:]}")
        try:
            if requests.get(url, timeout=30).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer {url} within {timeout_s:.0f} s; see {log}")


def load_with_wrk(name: str, url: str, clients: int, duration_s: int, script: Path) -> Load:
    command = ["wrk", "-t", "2", "-c", str(clients), "-d", f"{duration_s}s", "--timeout", "10s", "-s", str(script),
               url]
    output = subprocess.run(command, capture_output=True, text=True, timeout=duration_s + 60).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT"))
    p50, p95, p99, count, errors, duration_us = (int(part) for part in line.split()[1:])
    return Load(name, url, "wrk", count, errors, duration_us / 1e6, p50 / 1e3, p95 / 1e3, p99 / 1e3)


def load_with_threads(name: str, url: str, clients: int, duration_s: int, max_requests: int) -> Load:
    """Fallback client: ``clients`` threads, at most ``max_requests`` requests and ``duration_s`` seconds."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.monotonic() + duration_s
    budget = iter(range(max_requests))

    def client() -> None:
        nonlocal errors
        session = requests.Session()
        while time.monotonic() < deadline:
            with lock:
                if next(budget, None) is None:
                    return
            started = time.perf_counter()
            try:
                ok = session.get(url, timeout=10).status_code == 200
            except requests.RequestException:
                ok = False
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                errors += 0 if ok else 1

    started = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        for _ in range(clients):
            pool.submit(client)
    seconds = time.monotonic() - started
    p50, p95, p99 = (float(np.percentile(latencies, q)) * 1e3 for q in (50, 95, 99))
    return Load(name, url, "python threads", len(latencies), errors, seconds, p50, p95, p99)


def warm_up(url: str, clients: int, seconds: int, script: Path, use_wrk: bool) -> None:
    """Untimed load, so every worker process has the page in its caches before the timing starts."""
    if use_wrk:
        load_with_wrk("warm-up", url, clients, seconds, script)
    else:
        load_with_threads("warm-up", url, clients, seconds, max_requests=500)


def alone_ms(url: str, count: int = 30) -> float:
    session = requests.Session()
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        session.get(url, timeout=30)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1e3


def check_page(url: str, expected_rows: int) -> int:
    page = requests.get(url, timeout=30)
    rows = page.text.count('<td class="rank">')
    if page.status_code != 200 or rows != expected_rows:
        raise SystemExit(f"{url}: HTTP {page.status_code} with {rows} leaderboard rows, expected {expected_rows}")
    return len(page.content)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per URL")
    parser.add_argument("--max-requests", type=int, default=20_000, help="bound for the Python client")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
    parser.add_argument("--warmup", type=int, default=2, help="untimed seconds of load before each URL's timing")
    parser.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    use_wrk = args.tool == "wrk" or (args.tool == "auto" and shutil.which("wrk") is not None)
    with tempfile.TemporaryDirectory(prefix="toonbench-load-") as scratch:
        folder = Path(scratch)
        os.environ.update(production_env(folder))
        started = time.monotonic()
        prepare_site(args.submissions, args.seed)
        print(f"site with {args.submissions} submissions ready in {time.monotonic() - started:.1f} s")
        from django.contrib.staticfiles.storage import staticfiles_storage

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = folder / "gunicorn.log"
        server = start_gunicorn(port, args.workers, args.threads, log)
        try:
            wait_until_up(f"{base}/", server, log)
            targets = {
                "leaderboard": f"{base}/benchmarks/toonnet/",
                "leaderboard sorted by top3_error": f"{base}/benchmarks/toonnet/?sort=top3_error",
                "leaderboard page 40": f"{base}/benchmarks/toonnet/?page=40",
                "leaderboard, all submissions": f"{base}/benchmarks/toonnet/?view=all",
                "peer: static file (WhiteNoise)": f"{base}{staticfiles_storage.url('toonbench.css')}",
                "peer: home page": f"{base}/",
            }
            size = check_page(targets["leaderboard"], expected_rows=100)
            print(f"leaderboard page: {size / 1024:.0f} KiB, 100 rows of {args.submissions} "
                  f"({int(args.submissions * 0.9)} public)")
            script = folder / "report.lua"
            script.write_text(WRK_REPORT)
            loads = []
            for name, url in targets.items():
                if args.warmup > 0:
                    warm_up(url, args.clients, args.warmup, script, use_wrk)
                single = alone_ms(url)
                if use_wrk:
                    loads.append(load_with_wrk(name, url, args.clients, args.duration, script))
                else:
                    loads.append(load_with_threads(name, url, args.clients, args.duration, args.max_requests))
                loads[-1].alone_ms = single
        finally:
            server.terminate()
            server.wait(timeout=30)
    report(loads, args)
    if args.json:
        args.json.write_text(json.dumps([asdict(load) for load in loads], indent=2))
    return 0


def report(loads: list[Load], args: argparse.Namespace) -> None:
    print(f"\n{args.clients} concurrent clients, {args.duration} s per URL after {args.warmup} s warm-up, gunicorn "
          f"{args.workers} workers x {args.threads} threads, {os.cpu_count()} CPUs, tool: {loads[0].tool}")
    print(f"{'URL':34} {'requests':>9} {'errors':>6} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'alone ms':>9}")
    for load in loads:
        print(f"{load.name:34} {load.requests:9d} {load.errors:6d} {load.per_second:8.0f} {load.p50_ms:8.1f} "
              f"{load.p95_ms:8.1f} {load.p99_ms:8.1f} {load.alone_ms:9.1f}")
    board = loads[0]
    for peer in loads[3:]:
        print(f"leaderboard p95 / {peer.name} p95 = {board.p95_ms / max(peer.p95_ms, 1e-9):.1f}x")
    verdict = "meets" if board.p95_ms <= GOAL_P95_MS else "misses"
    print(f"leaderboard p95 {board.p95_ms:.1f} ms {verdict} the goal of {GOAL_P95_MS:.0f} ms "
          f"(median of all leaderboard p95s: {statistics.median(l.p95_ms for l in loads[:3]):.1f} ms)")


if __name__ == "__main__":
    sys.exit(main())
