"""The submission list filters with django-filter and pages with limit/offset: exactly the matching rows, absolute
links to the next and previous pages, and a 400 naming any parameter or value it cannot read."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.authtoken.models import Token

from benchmarks.models import Benchmark, Phase, ProtocolVersion
from submissions.models import Status, Submission
from teams import services

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def made(owner: User, benchmark: Benchmark, day: int, status: str = Status.QUEUED, kind: str = "image",
         phase: Phase | None = None) -> Submission:
    """A submission made ``day`` days after START at noon UTC."""
    submission = Submission.objects.create(
        owner=owner, benchmark=benchmark, protocol=benchmark.current_version(), kind=kind, status=status,
        image_ref="alice/model:1" if kind == "image" else "", method_name=f"day {day} {status} {kind}", phase=phase)
    Submission.objects.filter(pk=submission.pk).update(created=START + timedelta(days=day))
    return submission


@pytest.fixture
def second(toonnet: Benchmark) -> Benchmark:
    """Another benchmark with a current protocol (its rows are never scored here)."""
    other = Benchmark.objects.create(slug="second", title="Second", task=toonnet.task, spec=toonnet.spec)
    ProtocolVersion.objects.create(benchmark=other, version=1, spec_hash="a" * 64, protocol_hash="b" * 64,
                                   spec=toonnet.spec, is_current=True)
    return other


@pytest.fixture
def rows(toonnet: Benchmark, second: Benchmark, alice: User, bob: User) -> dict[str, int]:
    """Alice's submissions of several benchmarks, statuses, kinds, phases and teams; one of Bob's; one deleted."""
    dev = Phase.objects.create(benchmark=toonnet, slug="dev", title="Development", split="dev",
                               opens=START - timedelta(days=30), closes=START + timedelta(days=30))
    ids = {
        "queued_image": made(alice, toonnet, 0).pk,
        "finished_predictions_dev": made(alice, toonnet, 1, Status.FINISHED, "predictions", phase=dev).pk,
        "failed_image": made(alice, toonnet, 2, Status.FAILED).pk,
        "second_queued": made(alice, second, 3).pk,
    }
    services.create_team(alice, "red-pandas")
    ids["team_finished_image"] = made(alice, toonnet, 4, Status.FINISHED).pk
    ids["bobs"] = made(bob, toonnet, 1).pk
    gone = made(alice, toonnet, 5, Status.FINISHED)
    Submission.objects.filter(pk=gone.pk).update(deleted_at=START + timedelta(days=6))
    ids["deleted"] = gone.pk
    return ids


def listed(query: str, user: User) -> list[int]:
    response = Client().get(f"/api/v1/submissions/{query}", HTTP_AUTHORIZATION=f"Token {token(user)}")
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


def token(user: User) -> str:
    return Token.objects.get_or_create(user=user)[0].key


def test_without_filters_the_list_is_all_my_live_submissions_newest_first(rows: dict[str, int], alice: User) -> None:
    assert listed("", alice) == [rows["team_finished_image"], rows["second_queued"], rows["failed_image"],
                                 rows["finished_predictions_dev"], rows["queued_image"]]


@pytest.mark.parametrize(("query", "expected"), [
    ("?status=finished", ["team_finished_image", "finished_predictions_dev"]),
    ("?status=failed", ["failed_image"]),
    ("?benchmark=second", ["second_queued"]),
    ("?benchmark=toonnet&status=queued", ["queued_image"]),
    ("?kind=predictions", ["finished_predictions_dev"]),
    ("?kind=image&benchmark=toonnet", ["team_finished_image", "failed_image", "queued_image"]),
    ("?phase=dev", ["finished_predictions_dev"]),
    ("?team=red-pandas", ["team_finished_image"]),
    ("?team=alice", ["second_queued", "failed_image", "finished_predictions_dev", "queued_image"]),
    ("?created_after=2026-03-03", ["team_finished_image", "second_queued", "failed_image"]),
    ("?created_before=2026-03-03", ["finished_predictions_dev", "queued_image"]),
    ("?created_after=2026-03-02T12:00:00Z&created_before=2026-03-04T12:00:00%2B00:00",
     ["failed_image", "finished_predictions_dev"]),
    ("?benchmark=nothing", []),
])
def test_each_filter_returns_exactly_the_matching_rows(rows: dict[str, int], alice: User, query: str,
                                                       expected: list[str]) -> None:
    assert listed(query, alice) == [rows[name] for name in expected]


def test_pages_link_to_each_other_with_absolute_urls(rows: dict[str, int], alice: User) -> None:
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Token {token(alice)}"}
    first = client.get("/api/v1/submissions/?status=finished&limit=1", **auth).json()
    assert first["count"] == 2 and [item["id"] for item in first["results"]] == [rows["team_finished_image"]]
    assert first["previous"] is None
    assert first["next"] == "http://testserver/api/v1/submissions/?limit=1&offset=1&status=finished"
    second = client.get(first["next"], **auth).json()
    assert [item["id"] for item in second["results"]] == [rows["finished_predictions_dev"]]
    assert second["next"] is None
    assert second["previous"] == "http://testserver/api/v1/submissions/?limit=1&status=finished"


def test_the_unversioned_alias_lists_the_same_rows(rows: dict[str, int], alice: User) -> None:
    response = Client().get("/api/submissions/?kind=predictions", HTTP_AUTHORIZATION=f"Token {token(alice)}")
    assert [item["id"] for item in response.json()["results"]] == [rows["finished_predictions_dev"]]


@pytest.mark.parametrize(("query", "error", "field"), [
    ("?stauts=finished", "unknown filter 'stauts'; expected one of: benchmark, created_after, created_before, "
                         "format, kind, limit, offset, phase, status, team", "stauts"),
    ("?status=done", "status: 'done' is not a status; expected one of: queued, running, scoring, finished, "
                     "failed, timed_out, out_of_memory, cancelled", "status"),
    ("?kind=docker", "kind: 'docker' is not a kind; expected one of: image, tarball, predictions, local", "kind"),
    ("?created_after=yesterday", "created_after: expected an ISO 8601 date or datetime, e.g. 2026-01-31 or "
                                 "2026-01-31T12:00:00Z", "created_after"),
])
def test_an_unknown_filter_or_a_bad_value_is_a_400_naming_it(rows: dict[str, int], alice: User, query: str,
                                                               error: str, field: str) -> None:
    response = Client().get(f"/api/v1/submissions/{query}", HTTP_AUTHORIZATION=f"Token {token(alice)}")
    assert response.status_code == 400
    assert response.json() == {"error": error, "field": field}
