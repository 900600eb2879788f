"""The REST API: benchmarks, bundle, leaderboard (JSON and CSV), tokens, submissions, schema and docs."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
import yaml
from rest_framework.authtoken.models import Token
from sklearn.metrics import top_k_accuracy_score

from submissions.models import Status, Submission
from site_helpers import finished_submission, predictions_upload
from toonnet_outputs import REPO_ROOT, seeded_scores, true_class_indices

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_token(alice) -> str:  # type: ignore[no-untyped-def]
    return Token.objects.create(user=alice).key


def auth(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Token {token}"}


def test_benchmarks_are_listed_with_the_metrics_and_directions_of_their_spec(client, toonnet, toonnet_built) -> None:  # type: ignore[no-untyped-def]
    listed = client.get("/api/benchmarks/").json()
    assert [benchmark["slug"] for benchmark in listed] == ["toonnet"]
    raw = yaml.safe_load((REPO_ROOT / "datasets" / "benchmarks" / "toonnet.yaml").read_text())
    expected = [{"name": m["name"], "higher_is_better": m["higher_is_better"], "leaderboard": True}
                for m in raw["metrics"]]
    detail = client.get("/api/benchmarks/toonnet/").json()
    assert detail["metrics"] == expected and detail["rank_by"] == raw["leaderboard"]["rank_by"]
    assert detail["classes"] == raw["classes"]
    assert detail["current_protocol"]["protocol_hash"] == toonnet_built.protocol_hash
    assert client.get("/api/benchmarks/nothing/").status_code == 404


def test_the_bundle_downloads_through_the_api(client, toonnet, toonnet_built) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/benchmarks/toonnet/bundle/")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as bundle:
        assert json.loads(bundle.read("toonnet/protocol.json"))["protocol_hash"] == toonnet_built.protocol_hash


def test_the_leaderboard_json_and_csv_agree_with_scikit_learn(client, toonnet, alice, toonnet_built) -> None:  # type: ignore[no-untyped-def]
    truth = true_class_indices(toonnet_built)
    errors = {}
    for seed in (21, 22, 23):
        scores = seeded_scores(toonnet_built, seed)
        submission = finished_submission(alice, toonnet, toonnet_built, scores=scores, seed=seed, method=f"s{seed}")
        errors[submission.pk] = 1 - top_k_accuracy_score(truth, scores, k=1, labels=list(range(12)))
    board = client.get("/api/benchmarks/toonnet/leaderboard/?view=all").json()
    assert board["sort"] == "top1_error" and board["protocol_hash"] == toonnet_built.protocol_hash
    assert [row["submission"] for row in board["rows"]] == sorted(errors, key=lambda pk: (errors[pk], pk))
    for row in board["rows"]:
        assert row["metrics"]["top1_error"]["value"] == pytest.approx(errors[row["submission"]])
        low, high = row["metrics"]["top1_error"]["ci95"]
        assert low <= row["metrics"]["top1_error"]["value"] <= high
    for response in (client.get("/api/benchmarks/toonnet/leaderboard/?format=csv&view=all"),
                     client.get("/api/benchmarks/toonnet/leaderboard/?view=all", HTTP_ACCEPT="text/csv")):
        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.content.decode())))
        assert [int(row["submission"]) for row in rows] == [row["submission"] for row in board["rows"]]
        assert [float(row["top1_error"]) for row in rows] == pytest.approx(sorted(errors.values()))


def test_a_username_and_password_give_the_api_token(client, alice) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/auth/token/", {"username": "alice", "password": "correct horse battery"})
    assert response.status_code == 200 and response.json()["token"] == Token.objects.get(user=alice).key
    assert client.post("/api/auth/token/", {"username": "alice", "password": "wrong"}).status_code == 400


def test_a_predictions_archive_is_submitted_with_a_token(client, toonnet, alice, alice_token, toonnet_built) -> None:  # type: ignore[no-untyped-def]
    upload = predictions_upload(seeded_scores(toonnet_built))
    sent = upload.read()
    upload.seek(0)
    response = client.post("/api/submissions/", {
        "benchmark": "toonnet", "kind": "predictions", "artefact": upload, "method_name": "api method",
        "code_url": "https://example.org/code", "is_public": "false",
    }, **auth(alice_token))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "queued" and body["owner"] == "alice" and body["is_public"] is False
    assert body["protocol_hash"] == toonnet_built.protocol_hash
    with Submission.objects.get(pk=body["id"]).artefact.open("rb") as stored:
        assert stored.read() == sent


def test_submitting_needs_authentication(client, toonnet) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/submissions/", {"benchmark": "toonnet", "kind": "image",
                                                 "image_ref": "a/b:1", "method_name": "anon"})
    assert response.status_code == 401
    assert client.post("/api/submissions/", {}, HTTP_AUTHORIZATION="Token not-a-token").status_code == 401


def test_the_daily_limit_answers_429_with_the_reason(client, toonnet, alice, alice_token) -> None:  # type: ignore[no-untyped-def]
    for index in range(toonnet.typed_spec.limits.submissions_per_day):
        Submission.objects.create(owner=alice, benchmark=toonnet, protocol=toonnet.current_version(),
                                  kind="image", image_ref="a/b:1", method_name=f"s{index}")
    response = client.post("/api/submissions/", {"benchmark": "toonnet", "kind": "image", "image_ref": "a/b:2",
                                                 "method_name": "over", "is_public": "true"}, **auth(alice_token))
    assert response.status_code == 429 and "you have used all 5 submissions" in response.json()["error"]


def test_listing_shows_only_my_submissions_and_detail_hides_logs_from_others(client, toonnet, alice, bob, alice_token, toonnet_built) -> None:  # type: ignore[no-untyped-def]
    mine = finished_submission(alice, toonnet, toonnet_built, seed=1, method="mine")
    theirs = finished_submission(bob, toonnet, toonnet_built, seed=2, method="theirs")
    listed = client.get("/api/submissions/", **auth(alice_token)).json()
    assert [item["id"] for item in listed["results"]] == [mine.pk]
    assert listed["results"][0]["log_tail"] == "log of mine: secret internals"
    other = client.get(f"/api/submissions/{theirs.pk}/", **auth(alice_token)).json()
    assert other["log_tail"] is None
    assert other["result"]["metrics"]["top1_error"] == pytest.approx(theirs.result.metrics["top1_error"])


def test_cancelling_through_the_api_then_again_answers_conflict(client, toonnet, alice, alice_token) -> None:  # type: ignore[no-untyped-def]
    queued = Submission.objects.create(owner=alice, benchmark=toonnet, protocol=toonnet.current_version(),
                                       kind="image", image_ref="a/b:1", method_name="to cancel")
    first = client.post(f"/api/submissions/{queued.pk}/cancel/", **auth(alice_token))
    assert first.status_code == 200 and first.json()["status"] == Status.CANCELLED
    again = client.post(f"/api/submissions/{queued.pk}/cancel/", **auth(alice_token))
    assert again.status_code == 409 and again.json() == {
        "error": f"submission #{queued.pk} already ended (cancelled); there is nothing to cancel", "field": None}


def test_the_openapi_schema_describes_the_endpoints_and_the_docs_need_no_cdn(client) -> None:  # type: ignore[no-untyped-def]
    schema = client.get("/api/schema/?format=json").json()
    for path in ("/api/v1/benchmarks/", "/api/v1/benchmarks/{slug}/leaderboard/", "/api/v1/submissions/",
                 "/api/v1/submissions/{id}/cancel/", "/api/v1/auth/token/"):
        assert path in schema["paths"]
    assert "multipart/form-data" in schema["paths"]["/api/v1/submissions/"]["post"]["requestBody"]["content"]
    docs = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/" in docs
    assert "cdn" not in docs.lower() and "unpkg" not in docs.lower()
