"""The daily quota counts per team: members share it, through the API, the submit page and chunked uploads.

toonnet's spec allows 5 submissions a day. Every participant is a team of
one until they join a team; then what they submit counts against the team,
so a second account in the same team does not double the quota. Posts stay
queued here (no worker runs), which the quota counts as it counts finished
ones. Parallel posts by several members are in test_quota_race.py.
"""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.authtoken.models import Token

from benchmarks.models import Benchmark
from datasets.build import BuiltBenchmark
from site_helpers import predictions_upload
from submissions.models import Submission
from teams import services
from toonnet_outputs import seeded_scores

pytestmark = pytest.mark.django_db

TEAM_USED_UP = ("team 'red-pandas' has used all 5 submissions to toonnet allowed in 24 hours (failed and "
                "cancelled ones do not count); try again later")


@pytest.fixture
def carol(django_user_model: type[User]) -> User:
    return django_user_model.objects.create_user("carol", "carol@example.org", "correct horse battery")


@pytest.fixture
def pandas(alice: User, bob: User) -> str:
    team = services.create_team(alice, "red-pandas")
    services.accept(bob, services.invite(alice, team, "bob"))
    return team.name


def api(user: User) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")


def post(user: User, built: BuiltBenchmark, method: str):  # type: ignore[no-untyped-def]
    return api(user).post("/api/submissions/", {
        "benchmark": "toonnet", "kind": "predictions", "method_name": method, "is_public": "true",
        "artefact": predictions_upload(seeded_scores(built)),
    })


def test_members_share_the_teams_daily_quota(
    toonnet: Benchmark, alice: User, bob: User, carol: User, pandas: str, toonnet_built: BuiltBenchmark
) -> None:
    statuses = [post(user, toonnet_built, f"{user.username} {index}").status_code
                for index, user in enumerate([alice, bob, alice, bob, alice])]
    assert statuses == [201] * 5
    refused = post(bob, toonnet_built, "bob's sixth for the team")
    assert refused.status_code == 429 and refused.json() == {"error": TEAM_USED_UP, "field": None}
    assert post(alice, toonnet_built, "alice's sixth for the team").json() == {"error": TEAM_USED_UP, "field": None}
    assert Submission.objects.filter(team__name=pandas).count() == 5
    assert not Submission.objects.filter(method_name__contains="sixth").exists()
    assert post(carol, toonnet_built, "carol's own").status_code == 201  # another team's quota is its own
    assert set(Submission.objects.values_list("team__name", flat=True)) == {pandas, "carol"}


def test_the_submit_page_shows_the_teams_allowance_and_refuses_with_the_teams_line(
    toonnet: Benchmark, alice: User, bob: User, pandas: str, toonnet_built: BuiltBenchmark
) -> None:
    for index in range(3):
        assert post(alice, toonnet_built, f"alice {index}").status_code == 201
    browser = Client()
    browser.force_login(bob)
    page = browser.get("/submit/").content.decode()
    assert "<td>toonnet</td><td class=\"num\">2 of 5</td>" in page
    assert '<strong id="quota-team">red-pandas</strong>' in page
    for index in range(2):
        assert post(bob, toonnet_built, f"bob {index}").status_code == 201
    refused = browser.post("/submit/", {"benchmark": "toonnet", "kind": "predictions", "method_name": "one more",
                                        "artefact": predictions_upload(seeded_scores(toonnet_built))})
    assert refused.status_code == 400
    assert TEAM_USED_UP.replace("'", "&#x27;") in refused.content.decode()
    assert Submission.objects.count() == 5


def test_a_chunked_upload_is_refused_at_once_when_the_team_has_no_submissions_left(
    toonnet: Benchmark, alice: User, bob: User, pandas: str, toonnet_built: BuiltBenchmark
) -> None:
    for index in range(5):
        assert post(alice, toonnet_built, f"alice {index}").status_code == 201
    opened = api(bob).post("/api/uploads/", json.dumps({
        "benchmark": "toonnet", "kind": "predictions", "filename": "predictions.zip", "total_bytes": 1000,
    }), content_type="application/json")
    assert opened.status_code == 429 and opened.json() == {"error": TEAM_USED_UP, "field": None}


def test_leaving_keeps_the_teams_count_and_gives_the_leaver_their_own_quota(
    toonnet: Benchmark, alice: User, bob: User, pandas: str, toonnet_built: BuiltBenchmark
) -> None:
    for index in range(5):
        assert post(bob, toonnet_built, f"bob for the team {index}").status_code == 201
    services.leave(bob, services.find_team(pandas))
    assert post(alice, toonnet_built, "alice after bob left").json() == {"error": TEAM_USED_UP, "field": None}
    assert post(bob, toonnet_built, "bob on his own").status_code == 201
    assert Submission.objects.get(method_name="bob on his own").team.name == "bob"
    assert Submission.objects.filter(team__name=pandas).count() == 5
