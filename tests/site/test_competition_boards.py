"""Competitions on the site: submissions enter a phase, the worker scores them on the phase's part, each phase
has its own leaderboard with its visibility (hidden until close, private, the Ladder), and no page, API answer
or CSV shows a hidden board's numbers to anyone but its hosts."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
import yaml
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

import datasets.spec
from benchmarks.models import Benchmark, Phase
from benchmarks.phases import apply_action
from benchmarks.sync import sync_benchmarks
from datasets.build import build_benchmark, load_built
from datasets.spec import load_spec
from jobs import evaluation
from leaderboards.ladder import climbs, rounded
from leaderboards.models import LadderScore
from site_helpers import predictions_upload
from submissions.models import Status, Submission
from toonnet_outputs import copy_specs

pytestmark = pytest.mark.django_db(transaction=True)  # the worker's heartbeat thread writes too

NOW = datetime.now(timezone.utc).replace(microsecond=0)
SECRET = "board-tests-build-secret-" + "7e" * 16
CLASSES = 12


def day(offset: int) -> str:
    return (NOW + timedelta(days=offset)).isoformat()


PHASES = [
    {"slug": "dev", "title": "Development", "split": "dev", "opens": day(-10), "closes": day(10),
     "submissions_per_day": 4, "leaderboard": "public", "entry": "best"},
    {"slug": "final", "title": "Final test", "split": "final", "opens": day(10), "closes": day(20),
     "submissions_total": 3, "leaderboard": "hidden_until_close", "entry": "best"},
]

# A stand-in container: a row of scores for each item it is shown, and how many that was.
PART_COMMAND = r"""
import json, sys, numpy as np
manifest = json.load(open(sys.argv[1] + "/manifest.json"))
scores = np.zeros((len(manifest["items"]), len(manifest["classes"])), dtype=np.float32)
np.save(sys.argv[2] + "/scores.npy", scores)
print("scored", len(manifest["items"]), "items")
"""


@pytest.fixture
def phased(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, site) -> Benchmark:  # type: ignore[no-untyped-def]
    """toonnet with a public ``dev`` phase open now and a ``final`` one over a hidden part, built tiny and synced."""
    folder = copy_specs(tmp_path / "benchmarks")
    monkeypatch.setattr(datasets.spec, "BENCHMARKS_DIR", folder)
    path = folder / "toonnet.yaml"
    document = yaml.safe_load(path.read_text())
    document["heldout_parts"] = [{"name": "dev", "fraction": 0.5},
                                 {"name": "final", "fraction": 0.5, "inputs": "hidden"}]
    document["phases"] = PHASES
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    root = tmp_path / "phased-data"
    build_benchmark("toonnet", root, profile="tiny", secret=SECRET)
    (root / ".build-secret").write_text(SECRET + "\n")
    site.TOONBENCH_DATA_ROOT = root
    sync_benchmarks(root, specs=[load_spec("toonnet", "tiny")])
    return Benchmark.objects.get(slug="toonnet")


@pytest.fixture
def host(django_user_model: type[User]) -> User:
    return django_user_model.objects.create_user("hostess", "host@example.org", "correct horse battery", is_staff=True)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def part_scores(benchmark: Benchmark, part: str, right: int) -> np.ndarray:
    """Scores for the part's items in id order: the first ``right`` items get their true class, the rest a wrong one."""
    built = load_built(benchmark.slug, Path(settings.TOONBENCH_DATA_ROOT)).part(part)
    items = sorted(built.test_items(), key=lambda item: item.id)
    scores = np.zeros((len(items), CLASSES), dtype=np.float32)
    for row, item in enumerate(items):
        truth = built.spec.classes.index(item.label)
        scores[row, truth if row < right else (truth + 1) % CLASSES] = 1.0
    return scores


def post_predictions(client: Client, scores: np.ndarray, method: str, **fields: str):  # type: ignore[no-untyped-def]
    return client.post("/api/submissions/", {
        "benchmark": "toonnet", "kind": "predictions", "method_name": method, "is_public": "true",
        "artefact": predictions_upload(scores), **fields,
    })


def scored_submission(client: Client, scores: np.ndarray, method: str) -> Submission:
    """Submit through the API and run the worker on it."""
    response = post_predictions(client, scores, method)
    assert response.status_code == 201, response.content
    submission_id = response.json()["id"]
    assert evaluation.evaluate(submission_id) == Status.FINISHED
    return Submission.objects.get(pk=submission_id)


def dev_size(benchmark: Benchmark) -> int:
    return len(part_scores(benchmark, "dev", 0))


# ---------------------------------------------------------------- intake


def test_a_submission_enters_the_open_phase_or_the_one_named(phased: Benchmark, alice: User) -> None:
    response = post_predictions(signed_in(alice), part_scores(phased, "dev", 3), "first")
    assert response.status_code == 201, response.content
    assert Submission.objects.get(pk=response.json()["id"]).phase.slug == "dev"
    named = post_predictions(signed_in(alice), part_scores(phased, "dev", 3), "named", phase="dev")
    assert named.status_code == 201 and Submission.objects.get(pk=named.json()["id"]).phase.slug == "dev"


def test_an_unknown_phase_and_one_not_open_yet_are_refused_in_one_line(phased: Benchmark, alice: User) -> None:
    client = signed_in(alice)
    unknown = post_predictions(client, part_scores(phased, "dev", 3), "lost", phase="warmup")
    assert unknown.status_code == 400
    assert unknown.json() == {"error": "phase: 'toonnet' has no phase 'warmup' (expected one of dev, final)",
                              "field": "phase"}
    upcoming = post_predictions(client, part_scores(phased, "dev", 3), "early", phase="final")
    final = Phase.objects.get(slug="final")
    assert upcoming.status_code == 400
    assert upcoming.json() == {"error": f"phase: 'final' opens at {final.opens.isoformat()}; it takes no "
                                        "submissions yet", "field": "phase"}
    assert not Submission.objects.exists()


def test_predictions_to_a_hidden_part_and_to_a_closed_phase_are_refused(phased: Benchmark, alice: User) -> None:
    dev, final = Phase.objects.get(slug="dev"), Phase.objects.get(slug="final")
    now = datetime.now(timezone.utc)
    apply_action(dev, "close", now)
    apply_action(final, "open", now)
    client = signed_in(alice)
    hidden = post_predictions(client, part_scores(phased, "dev", 3), "peek")
    assert hidden.status_code == 400
    assert hidden.json() == {"error": "kind: phase 'final' scores a part whose inputs are hidden; it takes a "
                                      "container (image or tarball), not predictions", "field": "kind"}
    closed = post_predictions(client, part_scores(phased, "dev", 3), "late", phase="dev")
    dev.refresh_from_db()
    assert closed.status_code == 400
    assert closed.json() == {"error": f"phase: 'dev' closed at {dev.closes.isoformat()}; it takes no more "
                                      "submissions", "field": "phase"}
    assert not Submission.objects.exists()


def test_the_phase_daily_limit_is_the_phases(phased: Benchmark, alice: User) -> None:
    client = signed_in(alice)
    for index in range(4):
        assert post_predictions(client, part_scores(phased, "dev", 3), f"try {index}").status_code == 201
    refused = post_predictions(client, part_scores(phased, "dev", 3), "fifth")
    assert refused.status_code == 429
    assert refused.json() == {"error": "you have used all 4 submissions to phase 'dev' of toonnet allowed in 24 "
                                       "hours (failed and cancelled ones do not count); try again later",
                              "field": None}
    assert Submission.objects.count() == 4


def test_the_phase_total_is_counted_over_the_whole_phase(phased: Benchmark, alice: User) -> None:
    Phase.objects.filter(slug="dev").update(submissions_total=2)
    client = signed_in(alice)
    first = post_predictions(client, part_scores(phased, "dev", 3), "one")
    Submission.objects.filter(pk=first.json()["id"]).update(created=NOW - timedelta(days=3))
    assert post_predictions(client, part_scores(phased, "dev", 3), "two").status_code == 201
    refused = post_predictions(client, part_scores(phased, "dev", 3), "three")
    assert refused.status_code == 429
    assert refused.json() == {"error": "you have used all 2 submissions allowed in phase 'dev' of toonnet "
                                       "(failed and cancelled ones do not count)", "field": None}
    assert Submission.objects.count() == 2


# ---------------------------------------------------------------- jobs


def test_the_worker_shows_and_scores_the_phase_part_only(phased: Benchmark, alice: User) -> None:
    final = Phase.objects.get(slug="final")
    submission = Submission.objects.create(
        owner=alice, benchmark=phased, protocol=phased.current_version(), phase=final, kind="local",
        command=[sys.executable, "-c", PART_COMMAND, "{input}", "{output}"], method_name="part probe",
    )
    assert evaluation.evaluate(submission.pk) == Status.FINISHED
    submission.refresh_from_db()
    final_items = len(part_scores(phased, "final", 0))
    assert f"scored {final_items} items" in submission.log_tail
    assert final_items < len(load_built("toonnet", Path(settings.TOONBENCH_DATA_ROOT)).test_items())


# ---------------------------------------------------------------- boards


def finished_in(phase: Phase, owner: User, method: str) -> Submission:
    """A container's submission to ``phase`` (the local stand-in), scored by the worker."""
    submission = Submission.objects.create(
        owner=owner, benchmark=phase.benchmark, protocol=phase.benchmark.current_version(), phase=phase,
        kind="local", command=[sys.executable, "-c", PART_COMMAND, "{input}", "{output}"], method_name=method,
    )
    assert evaluation.evaluate(submission.pk) == Status.FINISHED
    return submission


def visible_numbers(client: Client, submission: Submission) -> dict[str, object]:
    """What ``client`` is shown of the final board and of ``submission``: page, API, CSV, detail, team page."""
    page = client.get("/benchmarks/toonnet/?phase=final").content.decode()
    api = client.get("/api/benchmarks/toonnet/leaderboard/?phase=final").json()
    csv = client.get("/api/benchmarks/toonnet/leaderboard/?phase=final&format=csv").content.decode()
    detail = client.get(f"/api/submissions/{submission.pk}/").json()
    return {
        "page_rows": submission.method_name in page,
        "page_hidden": "leaderboard-hidden" in page,
        "api_rows": [row["method"] for row in api["rows"]],
        "api_hidden": api["hidden"],
        "csv_rows": csv.count(submission.method_name),
        "detail_metrics": (detail.get("result") or {}).get("metrics"),
    }


def test_a_hidden_until_close_board_shows_nothing_until_a_host_reveals_it_or_it_closes(
    phased: Benchmark, alice: User, bob: User, host: User
) -> None:
    final = Phase.objects.get(slug="final")
    entry = finished_in(final, alice, "final entry")
    hidden_line = f"The Final test leaderboard is hidden until the phase closes at {final.closes:%Y-%m-%d %H:%M} UTC."
    for viewer in (Client(), signed_in(bob)):
        assert visible_numbers(viewer, entry) == {
            "page_rows": False, "page_hidden": True, "api_rows": [], "api_hidden": hidden_line, "csv_rows": 0,
            "detail_metrics": {},
        }
    team_page = Client().get(f"/teams/{entry.team.name}/").content.decode()
    assert str(entry.result.metrics["top1_error"])[:5] not in team_page
    shown_to_host = visible_numbers(signed_in(host), entry)
    assert shown_to_host["api_rows"] == ["final entry"] and shown_to_host["csv_rows"] == 1
    assert shown_to_host["detail_metrics"]["top1_error"] == pytest.approx(entry.result.metrics["top1_error"])
    owner_view = visible_numbers(signed_in(alice), entry)
    assert owner_view["api_rows"] == [] and owner_view["detail_metrics"]["top1_error"] is not None

    revealed = signed_in(host).post("/api/benchmarks/toonnet/phases/final/", {"action": "reveal"},
                                    content_type="application/json")
    assert revealed.status_code == 200, revealed.content
    after_reveal = visible_numbers(signed_in(bob), entry)
    assert after_reveal["api_rows"] == ["final entry"] and after_reveal["api_hidden"] == ""
    assert after_reveal["page_rows"] and not after_reveal["page_hidden"] and after_reveal["csv_rows"] == 1


def test_a_hidden_board_shows_after_its_close(phased: Benchmark, alice: User, bob: User) -> None:
    final = Phase.objects.get(slug="final")
    entry = finished_in(final, alice, "final entry")
    assert visible_numbers(signed_in(bob), entry)["api_rows"] == []
    Phase.objects.filter(pk=final.pk).update(opens=NOW - timedelta(days=2), closes=NOW - timedelta(days=1))
    Phase.objects.filter(slug="dev").update(opens=NOW - timedelta(days=20), closes=NOW - timedelta(days=2))
    after_close = visible_numbers(signed_in(bob), entry)
    assert after_close["api_rows"] == ["final entry"] and after_close["detail_metrics"]["top1_error"] is not None


def test_a_private_board_is_the_hosts_only(phased: Benchmark, alice: User, bob: User, host: User) -> None:
    final = Phase.objects.get(slug="final")
    Phase.objects.filter(pk=final.pk).update(leaderboard="private")
    entry = finished_in(final, alice, "private entry")
    assert visible_numbers(signed_in(bob), entry)["api_hidden"] == (
        "The Final test leaderboard is private: only the competition's hosts see it.")
    assert visible_numbers(signed_in(host), entry)["api_rows"] == ["private entry"]


def test_each_phase_ranks_only_its_own_submissions(phased: Benchmark, alice: User, bob: User) -> None:
    dev_entry = scored_submission(signed_in(alice), part_scores(phased, "dev", 5), "dev entry")
    finished_in(Phase.objects.get(slug="final"), bob, "final entry")
    Phase.objects.filter(slug="final").update(revealed_at=NOW)
    dev_board = Client().get("/api/benchmarks/toonnet/leaderboard/").json()
    final_board = Client().get("/api/benchmarks/toonnet/leaderboard/?phase=final").json()
    assert (dev_board["phase"], [row["method"] for row in dev_board["rows"]]) == ("dev", ["dev entry"])
    assert (final_board["phase"], [row["method"] for row in final_board["rows"]]) == ("final", ["final entry"])
    assert dev_board["rows"][0]["metrics"]["top1_error"]["value"] == pytest.approx(
        dev_entry.result.metrics["top1_error"])
    unknown = Client().get("/api/benchmarks/toonnet/leaderboard/?phase=warmup")
    assert unknown.status_code == 404


# ---------------------------------------------------------------- the Ladder


def test_the_ladder_rounds_to_the_step_and_climbs_only_beyond_it() -> None:
    assert rounded(0.4371, 0.05) == 0.45 and rounded(0.4371, 0.01) == 0.44
    assert climbs(None, 0.9, 0.05, higher_is_better=False)
    assert not climbs(0.45, 0.41, 0.05, higher_is_better=False)  # lower is better: 0.04 is within the step
    assert climbs(0.45, 0.39, 0.05, higher_is_better=False)
    assert not climbs(0.45, 0.49, 0.05, higher_is_better=True) and climbs(0.45, 0.51, 0.05, higher_is_better=True)


def test_a_ladder_board_shows_a_teams_score_only_when_it_improves_beyond_the_step(
    phased: Benchmark, alice: User, bob: User
) -> None:
    items = dev_size(phased)
    step = round(1.5 / items, 4)
    Phase.objects.filter(slug="dev").update(leaderboard="ladder", ladder_step=step)
    client = signed_in(alice)
    first = scored_submission(client, part_scores(phased, "dev", items // 4), "first")
    error = first.result.metrics["top1_error"]
    assert LadderScore.objects.get().score == rounded(error, step)

    scored_submission(client, part_scores(phased, "dev", items // 4 + 1), "a little better")
    shown = LadderScore.objects.get()
    assert (shown.submission_id, shown.score) == (first.pk, rounded(error, step))
    board = signed_in(bob).get("/api/benchmarks/toonnet/leaderboard/").json()
    assert [(row["method"], row["metrics"]) for row in board["rows"]] == [
        ("first", {"top1_error": {"value": rounded(error, step), "ci95": [None, None]}})]

    better = scored_submission(client, part_scores(phased, "dev", items), "all right")
    shown = LadderScore.objects.get()
    assert (shown.submission_id, shown.score) == (better.pk, 0.0)
    board = signed_in(bob).get("/api/benchmarks/toonnet/leaderboard/").json()
    assert [(row["method"], row["metrics"]["top1_error"]["value"]) for row in board["rows"]] == [("all right", 0.0)]
    assert signed_in(bob).get(f"/api/submissions/{first.pk}/").json()["result"]["metrics"] == {}
    assert signed_in(alice).get(f"/api/submissions/{first.pk}/").json()["result"]["metrics"] == {}


# ---------------------------------------------------------------- chosen entries and the submit page


def test_a_team_chooses_one_entry_per_phase(phased: Benchmark, alice: User) -> None:
    client = signed_in(alice)
    dev_first = scored_submission(client, part_scores(phased, "dev", 2), "dev one")
    dev_second = scored_submission(client, part_scores(phased, "dev", 4), "dev two")
    final_entry = finished_in(Phase.objects.get(slug="final"), alice, "final one")
    for submission in (dev_first, final_entry, dev_second):
        assert client.post(f"/api/submissions/{submission.pk}/entry/").status_code == 200
    chosen = dict(Submission.objects.filter(chosen=True).values_list("phase__slug", "method_name"))
    assert chosen == {"dev": "dev two", "final": "final one"}


def test_the_submit_page_refuses_a_closed_phase_in_one_line(phased: Benchmark, alice: User) -> None:
    apply_action(Phase.objects.get(slug="dev"), "close", datetime.now(timezone.utc))
    dev = Phase.objects.get(slug="dev")
    response = signed_in(alice).post("/submit/", {
        "benchmark": "toonnet", "kind": "predictions", "method_name": "late", "phase": "dev",
        "artefact": predictions_upload(part_scores(phased, "dev", 3)), "is_public": "on",
    })
    assert response.status_code == 400
    assert f"phase: &#x27;dev&#x27; closed at {dev.closes.isoformat()}; it takes no more submissions" in (
        response.content.decode())
    assert not Submission.objects.exists()
