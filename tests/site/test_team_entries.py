"""One row per team on the leaderboard, through the site, the API and the CSV export.

Submissions are posted to the API (the intake that enters them for the
poster's team) and scored by the worker's own code path (Celery runs the
queued job at once here). Each test's scores are built so that exactly the
first ``hits`` of the 72 test items are top-1 hits: top-1 error is
``1 - hits / 72``. Which submission is a team's row follows the entry rule
(``leaderboards.queries.entry_rule``: ``best`` unless a phase or the spec says
otherwise); the tests of ``latest`` and ``chosen`` put that one function's
answer in place, as a phase declaring the rule does.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from django.contrib.auth.models import User
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.authtoken.models import Token

from benchmarks.models import Benchmark
from datasets.build import BuiltBenchmark
from datasets.phases import EntryRule
from leaderboards import queries
from site_helpers import npy_bytes, zip_bytes
from submissions.models import Kind, Status, Submission
from submissions.services import create_submission
from teams import services
from toonbench_site.celery import app as celery_app
from toonnet_outputs import true_class_indices

pytestmark = pytest.mark.django_db(transaction=True)  # the job's heartbeat thread uses the database

ROW = re.compile(r'<td class="rank">(?:<span[^>]*>=</span>)?(\d+)</td>\s*<td class="method"><a href="/submissions/(\d+)/">')


@pytest.fixture(autouse=True)
def eager_tasks() -> Iterator[None]:
    """Queued tasks run at once in this process, through the real task."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def carol(django_user_model: type[User]) -> User:
    return django_user_model.objects.create_user("carol", "carol@example.org", "correct horse battery")


@pytest.fixture
def pandas(alice: User, bob: User) -> str:
    """Team red-pandas: alice created it, bob accepted her invitation."""
    team = services.create_team(alice, "red-pandas")
    services.accept(bob, services.invite(alice, team, "bob"))
    return team.name


def api(user: User) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")


def scores_with_hits(built: BuiltBenchmark, hits: int) -> np.ndarray:
    """float32 scores whose top-1 is right on exactly the first ``hits`` test items."""
    truth = true_class_indices(built)
    scores = np.random.default_rng(hits).random((len(truth), len(built.spec.classes))).astype(np.float32) * 0.5
    scores[np.arange(len(truth)), truth] = np.where(np.arange(len(truth)) < hits, 1.0, -1.0)
    return scores


def submit(user: User, built: BuiltBenchmark, hits: int, method: str) -> int:
    """Post a predictions archive through the API; the worker scores it before this returns."""
    archive = zip_bytes({"scores.npy": npy_bytes(scores_with_hits(built, hits))})
    response = api(user).post("/api/submissions/", {
        "benchmark": "toonnet", "kind": "predictions", "method_name": method, "is_public": "true",
        "artefact": SimpleUploadedFile("predictions.zip", archive, content_type="application/zip"),
    })
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert Submission.objects.get(pk=pk).status == Status.FINISHED
    return int(pk)


def baseline(toonnet: Benchmark, built: BuiltBenchmark, hits: int, method: str, tmp_path: Path) -> int:
    """A bundled baseline as seeding stores it (``is_baseline``, owned by the baseline account)."""
    owner, _ = User.objects.get_or_create(username="toonbench-baselines")
    archive = tmp_path / f"{method}.zip"
    archive.write_bytes(zip_bytes({"scores.npy": npy_bytes(scores_with_hits(built, hits))}))
    with archive.open("rb") as handle:
        submission = create_submission(owner, toonnet, Kind.PREDICTIONS, method, artefact=File(handle),
                                       is_baseline=True)
    assert Submission.objects.get(pk=submission.pk).status == Status.FINISHED
    return submission.pk


def page_rows(query: str = "") -> list[tuple[int, int]]:
    """(rank, submission id) of every leaderboard row on the benchmark page, top to bottom."""
    html = Client().get(f"/benchmarks/toonnet/{query}").content.decode()
    return [(int(rank), int(pk)) for rank, pk in ROW.findall(html)]


def api_rows(query: str = "") -> list[dict[str, object]]:
    return Client().get(f"/api/benchmarks/toonnet/leaderboard/{query}").json()["rows"]


def csv_rows(query: str = "") -> list[dict[str, str]]:
    body = Client().get(f"/benchmarks/toonnet/leaderboard.csv{query}").content.decode()
    return list(csv.DictReader(io.StringIO(body, newline="")))


def rule_is(monkeypatch: pytest.MonkeyPatch, rule: EntryRule) -> None:
    monkeypatch.setattr(queries, "entry_rule", lambda benchmark, phase=None: rule)


def test_best_gives_each_team_one_row_its_best_submission_and_each_baseline_its_own(
    toonnet: Benchmark, alice: User, bob: User, carol: User, pandas: str, toonnet_built: BuiltBenchmark,
    tmp_path: Path,
) -> None:
    weak_alice = submit(alice, toonnet_built, 30, "alice weak")
    strong_bob = submit(bob, toonnet_built, 50, "bob strong")
    carol_first = submit(carol, toonnet_built, 40, "carol first")
    carol_tie = submit(carol, toonnet_built, 40, "carol same score later")
    base_good = baseline(toonnet, toonnet_built, 45, "baseline good", tmp_path)
    base_poor = baseline(toonnet, toonnet_built, 10, "baseline poor", tmp_path)

    assert page_rows() == [(1, strong_bob), (2, base_good), (3, carol_first), (4, base_poor)]
    rows = api_rows()
    assert [(row["submission"], row["team"], row["baseline"]) for row in rows] == [
        (strong_bob, pandas, False), (base_good, None, True), (carol_first, "carol", False), (base_poor, None, True)]
    assert rows[0]["metrics"]["top1_error"]["value"] == pytest.approx(1 - 50 / 72)
    exported = csv_rows()
    assert [(int(row["submission"]), row["team"], row["baseline"]) for row in exported] == [
        (strong_bob, pandas, "False"), (base_good, "", "True"), (carol_first, "carol", "False"),
        (base_poor, "", "True")]
    html = Client().get("/benchmarks/toonnet/").content.decode()
    assert html.count('<span class="badge baseline-badge">baseline</span>') == 2
    assert "One row per team: its best submission" in html

    every = [pk for _, pk in page_rows("?view=all")]
    assert every == [strong_bob, base_good, carol_first, carol_tie, weak_alice, base_poor]
    assert [row["submission"] for row in api_rows("?view=all")] == every
    assert [int(row["submission"]) for row in csv_rows("?view=all")] == every
    assert weak_alice not in {pk for _, pk in page_rows()}


def test_latest_gives_each_team_its_newest_finished_submission(
    toonnet: Benchmark, alice: User, bob: User, carol: User, pandas: str, toonnet_built: BuiltBenchmark,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    submit(bob, toonnet_built, 60, "bob strong, earlier")
    newest_pandas = submit(alice, toonnet_built, 20, "alice weak, newest")
    submit(carol, toonnet_built, 10, "carol earlier")
    newest_carol = submit(carol, toonnet_built, 30, "carol newest")
    rule_is(monkeypatch, EntryRule.latest)
    assert page_rows() == [(1, newest_carol), (2, newest_pandas)]
    assert [row["submission"] for row in api_rows()] == [newest_carol, newest_pandas]
    assert Client().get("/api/benchmarks/toonnet/leaderboard/").json()["entry_rule"] == "latest"
    assert "One row per team: its latest finished submission." in Client().get("/benchmarks/toonnet/").content.decode()


def test_chosen_shows_the_entry_a_member_chose_and_no_row_for_a_team_that_chose_none(
    toonnet: Benchmark, alice: User, bob: User, carol: User, pandas: str, toonnet_built: BuiltBenchmark,
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    alices = submit(alice, toonnet_built, 50, "alice best")
    bobs = submit(bob, toonnet_built, 20, "bob's pick")
    submit(carol, toonnet_built, 40, "carol, never chosen")
    base = baseline(toonnet, toonnet_built, 30, "baseline", tmp_path)
    rule_is(monkeypatch, EntryRule.chosen)
    assert page_rows() == [(1, base)]

    chosen = api(bob).post(f"/api/submissions/{alices}/entry/")  # any member may choose, not only the owner
    assert chosen.status_code == 200 and chosen.json()["chosen"] is True and chosen.json()["team"] == pandas
    assert page_rows() == [(1, alices), (2, base)]
    browser = Client()
    browser.force_login(alice)
    page = browser.post(f"/submissions/{bobs}/entry/", {"chosen": "1"}, follow=True)
    assert f"Submission #{bobs} is now the entry of team {pandas}." in page.content.decode()
    assert page_rows() == [(1, base), (2, bobs)]
    assert list(Submission.objects.filter(chosen=True).values_list("pk", flat=True)) == [bobs]
    assert [row["submission"] for row in api_rows()] == [base, bobs]
    assert [int(row["submission"]) for row in csv_rows()] == [base, bobs]
    assert "a team that chose none has no row" in Client().get("/benchmarks/toonnet/").content.decode()

    unmarked = api(alice).delete(f"/api/submissions/{bobs}/entry/")
    assert unmarked.status_code == 200 and unmarked.json()["chosen"] is False
    assert page_rows() == [(1, base)]


def test_only_a_finished_public_submission_of_ones_own_team_can_be_chosen(
    toonnet: Benchmark, alice: User, bob: User, carol: User, pandas: str, toonnet_built: BuiltBenchmark,
    tmp_path: Path,
) -> None:
    alices = submit(alice, toonnet_built, 50, "alice best")
    base = baseline(toonnet, toonnet_built, 30, "baseline", tmp_path)
    outsider = api(carol).post(f"/api/submissions/{alices}/entry/")
    assert outsider.status_code == 403
    assert outsider.json() == {"error": f"submission #{alices} belongs to team 'red-pandas', which you are not in; "
                                        "only its current members may change it", "field": None}
    refused_baseline = api(carol).post(f"/api/submissions/{base}/entry/")
    assert refused_baseline.status_code == 403
    Submission.objects.filter(pk=alices).update(is_public=False)
    private = api(alice).post(f"/api/submissions/{alices}/entry/")
    assert private.status_code == 400
    assert private.json() == {"error": f"submission #{alices} is private; a team's entry must be one of its "
                                       "finished public submissions", "field": None}
    assert not Submission.objects.filter(chosen=True).exists()


def test_hiding_the_chosen_entry_unmarks_it(
    toonnet: Benchmark, alice: User, toonnet_built: BuiltBenchmark,
) -> None:
    mine = submit(alice, toonnet_built, 40, "mine")
    assert api(alice).post(f"/api/submissions/{mine}/entry/").json()["chosen"] is True
    browser = Client()
    browser.force_login(alice)
    browser.post(f"/submissions/{mine}/visibility/", {"public": "0"})
    assert Submission.objects.values_list("is_public", "chosen").get(pk=mine) == (False, False)


def test_a_former_member_is_refused_with_one_line_and_nothing_changes(
    toonnet: Benchmark, alice: User, bob: User, pandas: str, toonnet_built: BuiltBenchmark,
) -> None:
    bobs = submit(bob, toonnet_built, 40, "bob's, for the team")
    services.leave(bob, services.find_team(pandas))
    browser = Client()
    browser.force_login(bob)
    before = list(Submission.objects.order_by("pk").values_list("pk", "is_public", "chosen", "team__name"))

    rerun = browser.post(f"/submissions/{bobs}/rerun/", follow=True).content.decode()
    assert ("bob is no longer in team &#x27;red-pandas&#x27;, which that submission was for; submit anew to enter "
            "as team &#x27;bob&#x27;") in rerun
    hide = browser.post(f"/submissions/{bobs}/visibility/", {"public": "0"}, follow=True).content.decode()
    assert (f"submission #{bobs} belongs to team &#x27;red-pandas&#x27;, which you are not in; only its current "
            "members may change it") in hide
    choose = api(bob).post(f"/api/submissions/{bobs}/entry/")
    assert choose.status_code == 403 and choose.json()["error"].startswith(f"submission #{bobs} belongs to team")
    assert list(Submission.objects.order_by("pk").values_list("pk", "is_public", "chosen", "team__name")) == before

    # Still the team's row; a new submission by bob is his own team's.
    assert api_rows()[0]["team"] == pandas
    again = submit(bob, toonnet_built, 10, "bob alone")
    assert Submission.objects.get(pk=again).team.name == "bob"


def test_the_team_page_lists_the_teams_public_entries(
    toonnet: Benchmark, alice: User, bob: User, carol: User, pandas: str, toonnet_built: BuiltBenchmark,
) -> None:
    alices = submit(alice, toonnet_built, 30, "alice method")
    bobs = submit(bob, toonnet_built, 50, "bob method")
    carols = submit(carol, toonnet_built, 60, "carol method")
    Submission.objects.filter(pk=alices).update(is_public=False)
    html = Client().get(f"/teams/{pandas}/").content.decode()
    entries = html.split('id="entries"')[1]
    assert "bob method" in entries and "alice method" not in entries and "carol method" not in entries
    assert f'href="/submissions/{bobs}/"' in entries and "on the leaderboard" in entries
    assert f"{1 - 50 / 72:.3f}" in entries
    personal = Client().get("/teams/carol/").content.decode().split('id="entries"')[1]
    assert f'href="/submissions/{carols}/"' in personal
    assert Client().get("/teams/nobody-here/").status_code == 404


def test_the_entry_rule_comes_from_the_phase_else_the_spec_else_best(toonnet: Benchmark) -> None:
    assert queries.entry_rule(toonnet) == EntryRule.best
    assert queries.entry_rule(toonnet, SimpleNamespace(entry="chosen")) == EntryRule.chosen
    toonnet.spec = {**toonnet.spec, "entry": "latest"}
    assert queries.entry_rule(toonnet) == EntryRule.latest
