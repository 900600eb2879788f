"""The daily quota holds when a participant, or several members of one team, fire many submissions at once,
on SQLite and PostgreSQL.

Each case is the real deployment: scripts/serve.sh (gunicorn, several worker
processes with several threads each) over a migrated database, and twelve
token-authenticated API posts released together. toonnet's spec allows 5
submissions a day, so exactly 5 are accepted and 7 refused with 429; before
the quota was counted inside the creating transaction, all 12 got in. The
quota is the team's: two members posting at once share it, where before
each account had its own. A competition phase's ``submissions_total`` holds
the same way: two members of a team get exactly the phase's total.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
from datetime import timedelta
from pathlib import Path
from typing import Iterator

import pytest
import requests
from django.test import Client
from django.utils import timezone

from benchmarks.models import Benchmark
from datasets.build import BuiltBenchmark
from live_site import REPO_ROOT, free_port, manage, served, site_environment, user_token
from site_helpers import npy_bytes, predictions_upload, zip_bytes
from submissions.models import Status, Submission
from toonnet_outputs import seeded_scores

pytestmark = pytest.mark.slow

PARALLEL_POSTS = 12


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a loopback port (scripts/services/postgres.sh)."""
    folder = Path(tempfile.mkdtemp(prefix="toonbench-pg-"))
    port = free_port()
    started = subprocess.run(["bash", str(REPO_ROOT / "scripts/services/postgres.sh"), str(port), str(folder)],
                             capture_output=True, text=True, timeout=900)
    if started.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"PostgreSQL could not be installed or started: {(started.stdout + started.stderr)[-400:]}")
    yield f"postgres://postgres@127.0.0.1:{port}/toonbench"
    pid_file = folder / "data" / "postmaster.pid"
    if pid_file.exists():
        os.kill(int(pid_file.read_text().splitlines()[0]), signal.SIGINT)  # PostgreSQL's fast shutdown
    shutil.rmtree(folder, ignore_errors=True)


def post_all_at_once(base: str, tokens: list[str], archive: bytes, count: int) -> list[requests.Response]:
    """``count`` posts released together, the i-th with ``tokens[i % len(tokens)]``."""
    start = threading.Barrier(count)
    responses: list[requests.Response | None] = [None] * count

    def post(index: int) -> None:
        start.wait()
        token = tokens[index % len(tokens)]
        responses[index] = requests.post(
            f"{base}/api/submissions/", headers={"Authorization": f"Token {token}"}, timeout=120,
            data={"benchmark": "toonnet", "kind": "predictions", "method_name": f"race {index}", "is_public": "true"},
            files={"artefact": ("predictions.zip", archive, "application/zip")},
        )

    threads = [threading.Thread(target=post, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [response for response in responses if response is not None]


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_parallel_posts_get_exactly_the_daily_quota(
    database: str, request: pytest.FixtureRequest, tmp_path: Path, data_root: Path, toonnet_built: BuiltBenchmark
) -> None:
    database_url = request.getfixturevalue("postgres_url") if database == "postgresql" else ""
    env = site_environment(tmp_path, data_root, database_url)
    env["TOONBENCH_WEB_WORKERS"] = "3"
    token = user_token(env)
    archive = zip_bytes({"scores.npy": npy_bytes(seeded_scores(toonnet_built))})
    with served(env, tmp_path / "site.log") as base:
        responses = post_all_at_once(base, [token], archive, PARALLEL_POSTS)
        mine = requests.get(f"{base}/api/submissions/", headers={"Authorization": f"Token {token}"}, timeout=30)
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] * 5 + [429] * 7, [response.text[:200] for response in responses]
    refusals = {response.json()["error"] for response in responses if response.status_code == 429}
    assert refusals <= {
        "you have used all 5 submissions to toonnet allowed in 24 hours (failed and cancelled ones do not count); "
        "try again later",
        "you already have 5 submissions to toonnet queued or running, the most allowed at once; wait for one to finish",
    }
    assert mine.json()["count"] == 5


MAKE_TEAM = (  # dora creates red-pandas and invites eve, who accepts
    "from django.contrib.auth.models import User; from teams import services; "
    "dora, eve = User.objects.get(username='dora'), User.objects.get(username='eve'); "
    "services.accept(eve, services.invite(dora, services.create_team(dora, 'red-pandas'), 'eve'))"
)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_two_members_posting_at_once_get_exactly_the_teams_daily_quota(
    database: str, request: pytest.FixtureRequest, tmp_path: Path, data_root: Path, toonnet_built: BuiltBenchmark
) -> None:
    database_url = request.getfixturevalue("postgres_url") if database == "postgresql" else ""
    env = site_environment(tmp_path, data_root, database_url)
    env["TOONBENCH_WEB_WORKERS"] = "3"
    tokens = [user_token(env, "dora"), user_token(env, "eve")]  # the PostgreSQL database is the module's
    manage(env, "shell", "-c", MAKE_TEAM)
    archive = zip_bytes({"scores.npy": npy_bytes(seeded_scores(toonnet_built))})
    with served(env, tmp_path / "site.log") as base:
        responses = post_all_at_once(base, tokens, archive, PARALLEL_POSTS)
        listed = [requests.get(f"{base}/api/submissions/", headers={"Authorization": f"Token {token}"},
                               timeout=30).json() for token in tokens]
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] * 5 + [429] * 7, [response.text[:200] for response in responses]
    refusals = {response.json()["error"] for response in responses if response.status_code == 429}
    assert refusals <= {
        "team 'red-pandas' has used all 5 submissions to toonnet allowed in 24 hours (failed and cancelled ones "
        "do not count); try again later",
        "team 'red-pandas' already has 5 submissions to toonnet queued or running, the most allowed at once; "
        "wait for one to finish",
    }
    assert sum(page["count"] for page in listed) == 5
    assert {row["team"] for page in listed for row in page["results"]} == {"red-pandas"}


MAKE_CUP_TEAM = (  # fay creates cup-team and invites gus, who accepts
    "from django.contrib.auth.models import User; from teams import services; "
    "fay, gus = User.objects.get(username='fay'), User.objects.get(username='gus'); "
    "services.accept(gus, services.invite(fay, services.create_team(fay, 'cup-team'), 'gus'))"
)
OPEN_A_CUP = (  # a competition phase open now over the whole held-out split, 3 submissions per team in all
    "from datetime import timedelta; from django.utils import timezone; from benchmarks.models import Benchmark; "
    "now = timezone.now(); Benchmark.objects.get(slug='toonnet').phases.create(slug='cup', title='Cup', "
    "split='test', opens=now - timedelta(days=1), closes=now + timedelta(days=1), submissions_total=3)"
)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_two_members_posting_at_once_get_exactly_the_phases_total(
    database: str, request: pytest.FixtureRequest, tmp_path: Path, data_root: Path, toonnet_built: BuiltBenchmark
) -> None:
    database_url = request.getfixturevalue("postgres_url") if database == "postgresql" else ""
    env = site_environment(tmp_path, data_root, database_url)
    env["TOONBENCH_WEB_WORKERS"] = "3"
    tokens = [user_token(env, "fay"), user_token(env, "gus")]
    manage(env, "shell", "-c", MAKE_CUP_TEAM)
    manage(env, "shell", "-c", OPEN_A_CUP)
    archive = zip_bytes({"scores.npy": npy_bytes(seeded_scores(toonnet_built))})
    with served(env, tmp_path / "site.log") as base:
        responses = post_all_at_once(base, tokens, archive, PARALLEL_POSTS)
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] * 3 + [429] * 9, [response.text[:200] for response in responses]
    assert {response.json()["error"] for response in responses if response.status_code == 429} == {
        "team 'cup-team' has used all 3 submissions allowed in phase 'cup' of toonnet (failed and cancelled ones "
        "do not count)"
    }
    entered = manage(env, "shell", "-c", "from submissions.models import Submission; print(sorted("
                     "Submission.objects.filter(team__name='cup-team').values_list('phase__slug', flat=True)))")
    assert entered.strip().splitlines()[-1] == "['cup', 'cup', 'cup']"


@pytest.mark.django_db(transaction=True)
def test_parallel_posts_through_the_test_client_on_the_file_backed_sqlite_db(
    toonnet: Benchmark, alice, toonnet_built: BuiltBenchmark  # type: ignore[no-untyped-def]
) -> None:
    results: list[int] = []
    start = threading.Barrier(PARALLEL_POSTS)

    def post(index: int) -> None:
        client = Client()
        client.force_login(alice)
        start.wait()
        response = client.post("/api/submissions/", {
            "benchmark": "toonnet", "kind": "predictions", "method_name": f"thread {index}", "is_public": "true",
            "artefact": predictions_upload(seeded_scores(toonnet_built)),
        })
        results.append(response.status_code)

    threads = [threading.Thread(target=post, args=(index,)) for index in range(PARALLEL_POSTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [201] * 5 + [429] * 7
    assert Submission.objects.filter(owner=alice).count() == 5


@pytest.mark.django_db(transaction=True)
def test_failed_jobs_cost_no_quota_but_active_ones_are_capped_whatever_their_age(
    client, toonnet: Benchmark, alice, toonnet_built: BuiltBenchmark  # type: ignore[no-untyped-def]
) -> None:
    protocol = toonnet.current_version()
    for index in range(5):
        Submission.objects.create(owner=alice, benchmark=toonnet, protocol=protocol, kind="predictions",
                                  method_name=f"failed {index}", status=Status.FAILED)
    client.force_login(alice)

    def submit(name: str):  # type: ignore[no-untyped-def]
        return client.post("/api/submissions/", {"benchmark": "toonnet", "kind": "predictions", "method_name": name,
                                                 "artefact": predictions_upload(seeded_scores(toonnet_built))})

    assert submit("after five failures").status_code == 201
    two_days_ago = timezone.now() - timedelta(days=2)
    for index in range(4):
        Submission.objects.create(owner=alice, benchmark=toonnet, protocol=protocol, kind="predictions",
                                  method_name=f"old queued {index}")
    Submission.objects.filter(status=Status.QUEUED).update(created=two_days_ago)
    refused = submit("a sixth active one")
    assert refused.status_code == 429
    assert refused.json()["error"] == (
        "you already have 5 submissions to toonnet queued or running, the most allowed at once; wait for one to finish"
    )
    assert not Submission.objects.filter(method_name="a sixth active one").exists()
