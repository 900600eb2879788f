"""A worker killed mid-job: the job is redelivered to another worker and finishes exactly once.

Real parts only: a Redis broker (scripts/services/redis.sh) or the embedded
filesystem broker, real Celery worker processes, the site's file-based
SQLite database, the LocalRunner.
The test process talks to the site only through ``manage.py`` and reads the
database file with the standard library, as an operator would.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import numpy as np
import pytest
from sklearn.metrics import top_k_accuracy_score

from datasets.build import BuiltBenchmark
from toonnet_outputs import REPO_ROOT, true_class_indices

pytestmark = pytest.mark.slow

PYTHON = sys.executable
T = TypeVar("T")
JOB_SLEEP_S = 8
SUBMIT = """
from django.contrib.auth.models import User
from benchmarks.models import Benchmark
from submissions.services import create_submission
owner = User.objects.create_user("alice")
command = ["python", %r, "{input}", "{output}"]
submission = create_submission(owner, Benchmark.objects.get(slug="toonnet"), "local", "slow random", command=command)
print("submission", submission.pk)
"""
SLOW_MODEL = """
import json, sys, time, numpy as np
manifest = json.load(open(sys.argv[1] + "/manifest.json"))
time.sleep(%d)
rng = np.random.default_rng(5)
np.save(sys.argv[2] + "/scores.npy", rng.random((len(manifest["items"]), len(manifest["classes"]))).astype(np.float32))
""" % JOB_SLEEP_S


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    folder = tmp_path / "redis"
    started = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts/services/redis.sh"), str(port), str(folder)],
        capture_output=True, text=True, timeout=600,
    )
    if started.returncode != 0:
        pytest.skip(f"redis could not be installed or started: {(started.stdout + started.stderr).strip()[-400:]}")
    yield f"redis://127.0.0.1:{port}/0"
    pid_file = folder / "redis.pid"
    if pid_file.exists():
        os.kill(int(pid_file.read_text()), signal.SIGTERM)


def site_environment(tmp_path: Path, data_root: Path, broker_url: str) -> dict[str, str]:
    """A migrated site with toonnet synced, and short timeouts so a death is noticed fast."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "toonbench_site.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'site.sqlite3'}",
        "TOONBENCH_VAR_DIR": str(tmp_path / "var"),
        "TOONBENCH_MEDIA_ROOT": str(tmp_path / "media"),
        "TOONBENCH_WORK_ROOT": str(tmp_path / "jobs"),
        "TOONBENCH_DATA_ROOT": str(data_root),
        "TOONBENCH_BROKER_URL": broker_url,
        "TOONBENCH_BROKER_VISIBILITY_TIMEOUT_S": "4",
        "TOONBENCH_BROKER_RESTORE_INTERVAL_S": "1",
        "TOONBENCH_HEARTBEAT_INTERVAL_S": "0.5",
        "TOONBENCH_HEARTBEAT_STALE_S": "2",
        "TOONBENCH_RUNNER": "local",
        "PYTHONUNBUFFERED": "1",
    }
    for command in (["migrate", "-v0"], ["sync_benchmarks", "toonnet"]):
        subprocess.run([PYTHON, "manage.py", *command], cwd=REPO_ROOT, env=env, check=True, capture_output=True)
    return env


@pytest.fixture
def site_env(tmp_path: Path, redis_url: str, data_root: Path) -> dict[str, str]:
    return site_environment(tmp_path, data_root, redis_url)


def submit_slow_job(env: dict[str, str], tmp_path: Path) -> int:
    model = tmp_path / "slow_model.py"
    model.write_text(SLOW_MODEL)
    submitted = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", SUBMIT % str(model)],
        cwd=REPO_ROOT, env=env, check=True, capture_output=True, text=True,
    )
    return int(submitted.stdout.split("submission")[-1].strip())


def expected_top1_error(toonnet_built: BuiltBenchmark) -> float:
    scores = np.random.default_rng(5).random((72, 12)).astype(np.float32)
    truth = true_class_indices(toonnet_built)
    return 1 - top_k_accuracy_score(truth, scores, k=1, labels=list(range(12)))


def stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for process in workers:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in workers:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def start_worker(
    name: str, env: dict[str, str], log: Path, queues: str = "evaluate"
) -> subprocess.Popen[bytes]:
    command = [
        PYTHON, "-m", "celery", "--workdir", "platform", "-A", "toonbench_site", "worker",
        "-Q", queues, "--concurrency", "1", "--prefetch-multiplier", "1", "-n", f"{name}@%h",
        "--loglevel", "INFO", "--without-gossip", "--without-mingle",
    ]
    with open(log, "wb") as sink:
        return subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )


def wait_for(predicate: Callable[[], T], timeout_s: float, what: str) -> T:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")


def job_row(database: Path, submission_id: int) -> dict[str, object]:
    with sqlite3.connect(database, timeout=30) as db:
        db.row_factory = sqlite3.Row
        row = db.execute("SELECT * FROM submissions_submission WHERE id = ?", (submission_id,)).fetchone()
        return dict(row)


def result_rows(database: Path, submission_id: int) -> list[dict[str, object]]:
    with sqlite3.connect(database, timeout=30) as db:
        db.row_factory = sqlite3.Row
        rows = db.execute("SELECT * FROM submissions_result WHERE submission_id = ?", (submission_id,)).fetchall()
        return [dict(row) for row in rows]


@pytest.mark.redis
def test_a_job_whose_worker_is_killed_is_finished_once_by_the_other_worker(
    site_env: dict[str, str], tmp_path: Path, redis_url: str, toonnet_built: BuiltBenchmark
) -> None:
    database = Path(site_env["DATABASE_URL"].removeprefix("sqlite:///"))
    logs = {name: tmp_path / f"{name}.log" for name in ("alpha", "beta")}
    workers = {name: start_worker(name, site_env, log) for name, log in logs.items()}
    try:
        for name, log in logs.items():
            wait_for(lambda log=log: b" ready." in log.read_bytes(), 120, f"worker {name} to start")
        submission_id = submit_slow_job(site_env, tmp_path)

        first = wait_for(lambda: job_row(database, submission_id)["worker"], 60, "a worker to claim the job")
        victim = first.split("@")[0]
        survivor = "beta" if victim == "alpha" else "alpha"
        assert job_row(database, submission_id)["status"] == "running"
        time.sleep(1.0)
        os.killpg(workers[victim].pid, signal.SIGKILL)
        workers[victim].wait(timeout=30)

        final = wait_for(
            lambda: (row := job_row(database, submission_id))["status"] in ("finished", "failed") and row,
            120, "the job to finish on the surviving worker",
        )
        assert final["status"] == "finished", final["status_reason"]
        assert str(final["worker"]).split("@")[0] == survivor
        assert final["attempts"] == 2
        results = result_rows(database, submission_id)
        assert len(results) == 1
        assert json.loads(results[0]["metrics"])["top1_error"] == pytest.approx(expected_top1_error(toonnet_built))

        time.sleep(2.0)
        assert job_row(database, submission_id)["status"] == "finished"
        assert len(result_rows(database, submission_id)) == 1
        assert b"succeeded" in logs[survivor].read_bytes()
    finally:
        stop(list(workers.values()))


def test_the_embedded_worker_restarted_after_a_kill_finishes_the_job_it_left(
    tmp_path: Path, data_root: Path, toonnet_built: BuiltBenchmark
) -> None:
    env = site_environment(tmp_path, data_root, "filesystem://localhost/")
    database = Path(env["DATABASE_URL"].removeprefix("sqlite:///"))
    workers = [start_worker("first", env, tmp_path / "first.log", queues="evaluate,maintenance")]
    try:
        wait_for(lambda: b" ready." in (tmp_path / "first.log").read_bytes(), 120, "the worker to start")
        submission_id = submit_slow_job(env, tmp_path)
        wait_for(lambda: job_row(database, submission_id)["status"] == "running", 60, "the worker to start the job")
        os.killpg(workers[0].pid, signal.SIGKILL)
        workers[0].wait(timeout=30)
        time.sleep(float(env["TOONBENCH_HEARTBEAT_STALE_S"]) + 0.5)

        workers.append(start_worker("second", env, tmp_path / "second.log", queues="evaluate,maintenance"))
        final = wait_for(
            lambda: (row := job_row(database, submission_id))["status"] in ("finished", "failed") and row,
            120, "the restarted worker to finish the job",
        )
        assert final["status"] == "finished", final["status_reason"]
        assert final["attempts"] == 2 and str(final["worker"]).startswith("second@")
        results = result_rows(database, submission_id)
        assert len(results) == 1
        assert json.loads(results[0]["metrics"])["top1_error"] == pytest.approx(expected_top1_error(toonnet_built))
    finally:
        stop(workers)
