"""The leaderboard API carries ETag and Last-Modified, answers 304 to a client that is up to date, and moves both
when a result lands or a phase's disclosure changes."""

from __future__ import annotations

from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from benchmarks.models import Benchmark, Phase
from datasets.build import BuiltBenchmark
from site_helpers import finished_submission

pytestmark = pytest.mark.django_db

BOARD = "/api/v1/benchmarks/toonnet/leaderboard/"


def test_an_unchanged_board_answers_304_to_its_etag_and_date(toonnet: Benchmark, alice: User,
                                                              toonnet_built: BuiltBenchmark) -> None:
    finished_submission(alice, toonnet, toonnet_built, seed=31, method="first")
    client = Client()
    first = client.get(BOARD)
    assert first.status_code == 200 and [row["method"] for row in first.json()["rows"]] == ["first"]
    etag, modified = first["ETag"], first["Last-Modified"]
    assert etag.startswith('"') and parsedate_to_datetime(modified) <= timezone.now() + timedelta(seconds=1)
    by_tag = client.get(BOARD, HTTP_IF_NONE_MATCH=etag)
    assert by_tag.status_code == 304 and by_tag.content == b"" and by_tag["ETag"] == etag
    by_date = client.get(BOARD, HTTP_IF_MODIFIED_SINCE=modified)
    assert by_date.status_code == 304 and by_date["Last-Modified"] == modified
    assert client.get(BOARD, HTTP_IF_NONE_MATCH='"something else"').status_code == 200


def test_a_new_result_moves_the_etag_and_the_date(toonnet: Benchmark, alice: User, bob: User,
                                                  toonnet_built: BuiltBenchmark) -> None:
    finished_submission(alice, toonnet, toonnet_built, seed=32, method="first")
    client = Client()
    before = client.get(BOARD)
    finished_submission(bob, toonnet, toonnet_built, seed=33, method="second")
    stale_tag = client.get(BOARD, HTTP_IF_NONE_MATCH=before["ETag"])
    assert stale_tag.status_code == 200 and len(stale_tag.json()["rows"]) == 2
    assert stale_tag["ETag"] != before["ETag"]
    assert parsedate_to_datetime(stale_tag["Last-Modified"]) > parsedate_to_datetime(before["Last-Modified"])
    stale_date = client.get(BOARD, HTTP_IF_MODIFIED_SINCE=before["Last-Modified"])
    assert stale_date.status_code == 200 and len(stale_date.json()["rows"]) == 2


def test_the_csv_board_has_its_own_etag_and_answers_304_too(toonnet: Benchmark, alice: User,
                                                            toonnet_built: BuiltBenchmark) -> None:
    finished_submission(alice, toonnet, toonnet_built, seed=34, method="first")
    client = Client()
    as_json, as_csv = client.get(BOARD), client.get(BOARD + "?format=csv")
    assert as_csv["Content-Type"].startswith("text/csv") and as_csv["ETag"] != as_json["ETag"]
    assert client.get(BOARD + "?format=csv", HTTP_IF_NONE_MATCH=as_csv["ETag"]).status_code == 304
    assert client.get(BOARD, HTTP_IF_NONE_MATCH=as_csv["ETag"]).status_code == 200
    assert "Accept" in as_json["Vary"]


def test_a_phase_board_that_shows_at_its_close_moves_the_etag(toonnet: Benchmark, alice: User, bob: User,
                                                              toonnet_built: BuiltBenchmark) -> None:
    now = timezone.now()
    final = Phase.objects.create(benchmark=toonnet, slug="final", title="Final", split="final",
                                 opens=now - timedelta(days=1), closes=now + timedelta(days=1),
                                 leaderboard="hidden_until_close")
    finished_submission(alice, toonnet, toonnet_built, seed=35, method="final entry", phase=final)
    client = Client()
    client.force_login(bob)
    hidden = client.get(BOARD + "?phase=final")
    assert hidden.json()["rows"] == [] and hidden.json()["hidden"]
    # Closing by the clock writes nothing that a cache could watch: the phase's state is part of the tag.
    Phase.objects.filter(pk=final.pk).update(closes=now - timedelta(minutes=1))
    shown = client.get(BOARD + "?phase=final", HTTP_IF_NONE_MATCH=hidden["ETag"])
    assert shown.status_code == 200 and [row["method"] for row in shown.json()["rows"]] == ["final entry"]
    assert parsedate_to_datetime(shown["Last-Modified"]) > parsedate_to_datetime(hidden["Last-Modified"])


def test_a_host_s_reveal_moves_the_etag(toonnet: Benchmark, alice: User, bob: User,
                                        toonnet_built: BuiltBenchmark) -> None:
    now = timezone.now()
    final = Phase.objects.create(benchmark=toonnet, slug="final", title="Final", split="final",
                                 opens=now - timedelta(days=1), closes=now + timedelta(days=1),
                                 leaderboard="hidden_until_close")
    finished_submission(alice, toonnet, toonnet_built, seed=36, method="final entry", phase=final)
    hidden = Client().get(BOARD + "?phase=final")
    host = User.objects.create_user("hostess", "host@example.org", "correct horse battery", is_staff=True)
    revealer = Client()
    revealer.force_login(host)
    assert revealer.post("/api/v1/benchmarks/toonnet/phases/final/", {"action": "reveal"},
                         content_type="application/json").status_code == 200
    shown = Client().get(BOARD + "?phase=final", HTTP_IF_NONE_MATCH=hidden["ETag"])
    assert shown.status_code == 200 and [row["method"] for row in shown.json()["rows"]] == ["final entry"]
