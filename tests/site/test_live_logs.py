"""The submission page while a job runs: the growing log for its owner only, what the run was given.

A real job through the site's worker path (``jobs.evaluation.evaluate``)
prints slowly; the status poll shows the log growing to the owner and
staff, never to anyone else; the page shows the limits the run got on this
host; the periodic sweep removes scratch folders that dead workers left.
"""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from benchmarks.models import Benchmark
from datasets.spec import load_spec
from evaluator.runners.host import local_host
from jobs import evaluation
from submissions.models import Status, Submission

pytestmark = pytest.mark.django_db(transaction=True)

SLOW_SCORES_COMMAND = r"""
import json, sys, time, numpy as np
manifest = json.load(open(sys.argv[1] + "/manifest.json"))
for tick in range(12):
    print("tick", tick, flush=True)
    time.sleep(0.5)
np.save(sys.argv[2] + "/scores.npy", np.zeros((len(manifest["items"]), len(manifest["classes"])), np.float32))
"""


def slow_submission(owner: User, benchmark: Benchmark) -> Submission:
    return Submission.objects.create(
        owner=owner, benchmark=benchmark, protocol=benchmark.current_version(), kind="local",
        command=[sys.executable, "-c", SLOW_SCORES_COMMAND, "{input}", "{output}"],
        method_name="slow scores", is_baseline=True,
    )


def poll(client: Client, submission: Submission) -> dict:
    response = client.get(reverse("submission_status", args=[submission.pk]))
    assert response.status_code == 200
    return response.json()


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_the_owner_sees_the_log_grow_while_the_job_runs(toonnet: Benchmark, alice: User, bob: User) -> None:
    submission = slow_submission(alice, toonnet)
    owner, other, visitor = client_for(alice), client_for(bob), client_for(None)
    worker = threading.Thread(target=evaluation.evaluate, args=(submission.pk,))
    worker.start()
    seen_while_running: list[str] = []
    deadline = time.monotonic() + 60
    while worker.is_alive() and time.monotonic() < deadline:
        state = poll(owner, submission)
        if state["status"] == Status.RUNNING and state["log_tail"] and state["log_tail"] not in seen_while_running:
            seen_while_running.append(state["log_tail"])
            assert "log_tail" not in poll(other, submission) and "log_tail" not in poll(visitor, submission)
        time.sleep(0.2)
    worker.join(timeout=60)

    assert len(seen_while_running) >= 2, seen_while_running
    assert seen_while_running[0].startswith("tick 0") and "tick 11" not in seen_while_running[0]
    assert all(later.startswith(earlier) for earlier, later in zip(seen_while_running, seen_while_running[1:]))
    final = poll(owner, submission)
    assert final["status"] == Status.FINISHED and "tick 11" in final["log_tail"]
    assert "log_tail" not in poll(other, submission)


def test_the_page_shows_what_the_run_was_given(toonnet: Benchmark, alice: User, bob: User) -> None:
    submission = slow_submission(alice, toonnet)
    assert evaluation.evaluate(submission.pk) == Status.FINISHED
    submission.refresh_from_db()
    spec = load_spec("toonnet").limits
    host = local_host()

    assert submission.effective_limits["cpus"] == min(spec.cpus, host.cpus)
    assert submission.effective_limits["output_mb"] == spec.output_mb
    assert submission.host_info["cpus"] == host.cpus and submission.host_info["gpus"] == []
    page = client_for(bob).get(reverse("submission", args=[submission.pk])).content.decode()
    assert "Ran with" in page
    assert f"<dt>CPUs</dt><dd>{min(spec.cpus, host.cpus):g}" in page
    assert f"<dt>Time limit</dt><dd>{spec.timeout_s} s</dd>" in page
    assert f"<dt>Output cap</dt><dd>{spec.output_mb} MB</dd>" in page
    assert "<dt>GPUs</dt><dd>none</dd>" in page
    assert 'id="log-tail"' not in page  # the log stays with its owner


def test_the_sweep_removes_scratch_folders_of_jobs_that_are_not_running(
    toonnet: Benchmark, alice: User, site
) -> None:
    running, finished = slow_submission(alice, toonnet), slow_submission(alice, toonnet)
    Submission.objects.filter(pk=running.pk).update(status=Status.RUNNING, heartbeat_at=timezone.now())
    Submission.objects.filter(pk=finished.pk).update(status=Status.FAILED)
    work_root = site.TOONBENCH_WORK_ROOT
    kept = work_root / f"toonbench-job-{running.pk}-abcd1234"
    left = work_root / f"toonbench-job-{finished.pk}-efgh5678"
    for folder in (kept, left):
        (folder / "output" / "locked").mkdir(parents=True)
        (folder / "output" / "locked").chmod(0)
        hour_ago = time.time() - 3600
        os.utime(folder, (hour_ago, hour_ago))

    report = evaluation.sweep_stale_jobs()

    assert report.scratch_removed == [left.name]
    assert sorted(path.name for path in work_root.iterdir()) == [kept.name]
