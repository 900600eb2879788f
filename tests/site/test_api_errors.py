"""Every API error, under /api/v1/ and its /api/ aliases, is JSON with exactly the keys "error" and "field"."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.authtoken.models import Token

from benchmarks.models import Benchmark
from datasets.build import BuiltBenchmark
from site_helpers import finished_submission
from submissions.models import Status, Submission

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(toonnet: Benchmark, alice: User, bob: User, toonnet_built: BuiltBenchmark) -> dict[str, int]:
    """Alice's finished public entry and her cancelled submission; Bob signs in with a token."""
    entry = finished_submission(alice, toonnet, toonnet_built, seed=11, method="alice's entry")
    ended = Submission.objects.create(owner=alice, benchmark=toonnet, protocol=toonnet.current_version(),
                                      kind="image", image_ref="alice/m:1", method_name="ended",
                                      status=Status.CANCELLED)
    return {"entry": entry.pk, "ended": ended.pk}


def token_of(user: User) -> str:
    return Token.objects.get_or_create(user=user)[0].key


def sweep(board: dict[str, int], alice: User, bob: User) -> list[tuple[str, str, dict[str, Any], int]]:
    """(method, path under the prefix, request options, expected status) of bad requests of every kind."""
    as_alice = {"HTTP_AUTHORIZATION": f"Token {token_of(alice)}"}
    as_bob = {"HTTP_AUTHORIZATION": f"Token {token_of(bob)}"}
    as_json = {"content_type": "application/json"}
    return [
        ("get", "submissions/999999/", {}, 404),
        ("get", "benchmarks/nothing/leaderboard/", {}, 404),
        ("get", "teams/no-such-team/", {}, 404),
        ("get", "submissions/?foo=1", as_alice, 400),
        ("get", "submissions/?status=done", as_alice, 400),
        ("get", "benchmarks/toonnet/leaderboard/?sort=nope", {}, 400),
        ("get", "benchmarks/toonnet/leaderboard/?sort=nope&format=csv", {}, 400),
        ("get", "benchmarks/toonnet/leaderboard/?view=everything", {"HTTP_ACCEPT": "text/csv"}, 400),
        ("post", "submissions/", {}, 401),
        ("post", "submissions/", {"HTTP_AUTHORIZATION": "Token not-a-token"}, 401),
        ("post", "submissions/", {**as_alice, "data": {"benchmark": "toonnet", "kind": "image"}}, 400),
        ("delete", f"submissions/{board['entry']}/", as_bob, 403),
        ("post", f"submissions/{board['ended']}/cancel/", as_alice, 409),
        ("patch", f"submissions/{board['entry']}/", {**as_alice, **as_json, "data": {"owner": "bob"}}, 400),
        ("patch", f"submissions/{board['entry']}/", {**as_alice, **as_json, "data": "{not json"}, 400),
        ("patch", f"submissions/{board['entry']}/", {**as_alice, "content_type": "text/plain", "data": "x"}, 415),
        ("post", f"submissions/{board['entry']}/entry/", as_bob, 403),
        ("post", "auth/token/", {"data": {"username": "alice", "password": "wrong"}}, 400),
        ("post", "teams/", {**as_alice, **as_json, "data": {"name": "X Bad Name!"}}, 400),
        ("post", "benchmarks/toonnet/phases/dev/", {**as_alice, **as_json, "data": {"action": "open"}}, 403),
        ("post", "benchmarks/toonnet/register/", {**as_alice, **as_json, "data": {"accept_terms": "maybe"}}, 400),
        ("get", "no/such/endpoint/", {}, 404),
        ("get", "no/such/endpoint/", {"HTTP_ACCEPT": "text/html"}, 404),
        ("put", "benchmarks/", {}, 405),
        ("delete", "auth/token/", {}, 405),
        ("get", f"submissions/{board['entry']}/rerun/", as_alice, 405),
    ]


@pytest.mark.parametrize("prefix", ["/api/v1/", "/api/"])
def test_every_error_of_a_sweep_of_bad_requests_has_the_one_shape(prefix: str, board: dict[str, int], alice: User,
                                                                   bob: User) -> None:
    client = Client()
    seen = []
    for method, path, options, expected in sweep(board, alice, bob):
        response = getattr(client, method)(prefix + path, **options)
        assert response.status_code == expected, (method, path, response.content)
        assert response["Content-Type"] == "application/json", (method, path, response["Content-Type"])
        body = json.loads(response.content)
        assert set(body) == {"error", "field"}, (method, path, body)
        assert isinstance(body["error"], str) and body["error"] and "\n" not in body["error"]
        assert body["field"] is None or isinstance(body["field"], str)
        seen.append((path.split("?")[-1], body["field"]))
    assert ("foo=1", "foo") in seen and ("sort=nope", "sort") in seen and ("status=done", "status") in seen


def test_the_errors_say_what_to_fix(board: dict[str, int], alice: User) -> None:
    client = Client(HTTP_AUTHORIZATION=f"Token {token_of(alice)}")
    assert client.get("/api/v1/benchmarks/toonnet/leaderboard/?sort=nope").json() == {
        "error": "unknown sort 'nope'; expected one of the leaderboard metrics: top1_error, top3_error",
        "field": "sort"}
    assert client.get("/api/v1/benchmarks/toonnet/leaderboard/?colour=red").json() == {
        "error": "unknown parameter 'colour'; expected one of: sort, version, view, phase, format", "field": "colour"}
    missing = client.post("/api/v1/submissions/", {"benchmark": "toonnet", "kind": "image", "image_ref": "a/b:1"})
    assert missing.json() == {"error": "method_name: This field is required.", "field": "method_name"}
    assert client.get("/api/v1/submissions/999999/").json() == {
        "error": "no submission #999999 (or it is private, or was deleted)", "field": None}
    assert client.put("/api/v1/benchmarks/").json() == {"error": 'Method "PUT" not allowed.', "field": None}
    assert Client().get("/api/v1/no/such/endpoint/").json() == {"error": "there is no such page", "field": None}
    wrong = Client().post("/api/v1/auth/token/", {"username": "alice", "password": "wrong"})
    assert wrong.json() == {"error": "Unable to log in with provided credentials.", "field": None}
