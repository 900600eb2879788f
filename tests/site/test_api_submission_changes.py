"""Scripts re-run, edit and delete submissions through /api/v1/: what changes, what the quota does, and who may."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from benchmarks.models import Benchmark, Phase
from datasets.build import BuiltBenchmark
from leaderboards.models import LadderScore
from results.models import MetricValue, PairedComparison, Result
from site_helpers import finished_submission
from submissions.models import Status, Submission
from submissions.quota import remaining_submissions
from teams.services import team_of

pytestmark = pytest.mark.django_db


def as_user(user: User | None) -> Client:
    """A client that speaks to the API with ``user``'s token (none: anonymous)."""
    if user is None:
        return Client()
    return Client(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")


def queued(owner: User, benchmark: Benchmark, method: str = "queued", **fields: Any) -> Submission:
    return Submission.objects.create(owner=owner, benchmark=benchmark, protocol=benchmark.current_version(),
                                     kind="predictions", method_name=method,
                                     artefact=SimpleUploadedFile("p.zip", f"{method} bytes".encode()), **fields)


def board_methods(client: Client, query: str = "?view=all") -> list[str]:
    rows = client.get(f"/api/v1/benchmarks/toonnet/leaderboard/{query}").json()["rows"]
    return [row["method"] for row in rows]


def test_rerun_queues_a_new_submission_with_the_same_artefact(toonnet: Benchmark, alice: User) -> None:
    ended = queued(alice, toonnet, "to rerun", status=Status.FAILED, description="first try")
    response = as_user(alice).post(f"/api/v1/submissions/{ended.pk}/rerun/")
    assert response.status_code == 201, response.content
    body = response.json()
    again = Submission.objects.get(pk=body["id"])
    assert body["status"] == "queued" and again.pk != ended.pk and body["description"] == "first try"
    with again.artefact.open("rb") as copy:
        assert copy.read() == b"to rerun bytes"


def test_rerun_refusals_come_in_the_one_shape(toonnet: Benchmark, alice: User, bob: User) -> None:
    running = queued(alice, toonnet, "running", status=Status.RUNNING)
    conflict = as_user(alice).post(f"/api/v1/submissions/{running.pk}/rerun/")
    assert conflict.status_code == 409 and conflict.json() == {
        "error": f"submission #{running.pk} is still running; cancel it first, or wait for it to end", "field": None}
    ended = queued(alice, toonnet, "ended", status=Status.FINISHED)
    forbidden = as_user(bob).post(f"/api/v1/submissions/{ended.pk}/rerun/")
    assert forbidden.status_code == 403 and forbidden.json() == {
        "error": f"only the owner of submission #{ended.pk} or staff may do this", "field": None}
    limit = toonnet.typed_spec.limits.submissions_per_day
    for index in range(limit - 2):  # with "running" and "ended", the day's quota is used up
        queued(alice, toonnet, f"filler {index}", status=Status.FINISHED)
    over = as_user(alice).post(f"/api/v1/submissions/{ended.pk}/rerun/")
    assert over.status_code == 429 and set(over.json()) == {"error", "field"}
    assert over.json()["error"].startswith(f"you have used all {limit} submissions to toonnet allowed in 24 hours")


def test_patch_edits_the_description_and_visibility_only(toonnet: Benchmark, alice: User, bob: User,
                                                         toonnet_built: BuiltBenchmark) -> None:
    mine = finished_submission(alice, toonnet, toonnet_built, seed=3, method="alice's entry")
    assert board_methods(Client()) == ["alice's entry"]
    edited = as_user(alice).patch(f"/api/v1/submissions/{mine.pk}/", {"description": "now with TTA"},
                                  content_type="application/json")
    assert edited.status_code == 200 and edited.json()["description"] == "now with TTA"
    assert as_user(None).get(f"/api/v1/submissions/{mine.pk}/").json()["description"] == "now with TTA"
    hidden = as_user(alice).patch(f"/api/v1/submissions/{mine.pk}/", {"is_public": False},
                                  content_type="application/json")
    assert hidden.status_code == 200 and hidden.json()["is_public"] is False
    assert board_methods(Client()) == []
    assert as_user(None).get(f"/api/v1/submissions/{mine.pk}/").status_code == 404


@pytest.mark.parametrize(("edit", "status", "expected"), [
    ({"method_name": "renamed"}, 400,
     {"error": "'method_name' cannot be changed; expected any of: description, is_public", "field": "method_name"}),
    ({"description": "ok", "status": "finished"}, 400,
     {"error": "'status' cannot be changed; expected any of: description, is_public", "field": "status"}),
    ({"is_public": "perhaps"}, 400, {"error": "is_public: Must be a valid boolean.", "field": "is_public"}),
    ({"description": "x" * 5001}, 400,
     {"error": "description: Ensure this field has no more than 5000 characters.", "field": "description"}),
    ({}, 400, {"error": "nothing to change; send any of: description, is_public", "field": None}),
])
def test_patch_refuses_other_fields_naming_them(toonnet: Benchmark, alice: User, edit: dict[str, Any], status: int,
                                                expected: dict[str, Any]) -> None:
    mine = queued(alice, toonnet, "mine", description="as sent")
    response = as_user(alice).patch(f"/api/v1/submissions/{mine.pk}/", edit, content_type="application/json")
    assert response.status_code == status and response.json() == expected
    mine.refresh_from_db()
    assert (mine.method_name, mine.description, mine.status) == ("mine", "as sent", Status.QUEUED)


def test_only_the_owner_may_patch(toonnet: Benchmark, alice: User, bob: User) -> None:
    mine = queued(alice, toonnet, "mine")
    refused = as_user(bob).patch(f"/api/v1/submissions/{mine.pk}/", {"description": "bob was here"},
                                 content_type="application/json")
    assert refused.status_code == 403
    anonymous = as_user(None).patch(f"/api/v1/submissions/{mine.pk}/", {"description": "x"},
                                    content_type="application/json")
    assert anonymous.status_code == 401
    mine.refresh_from_db()
    assert mine.description == ""


def test_deleting_a_scored_submission_takes_it_off_the_board_and_keeps_the_quota_used(
        toonnet: Benchmark, alice: User, bob: User, toonnet_built: BuiltBenchmark,
        django_capture_on_commit_callbacks: Any) -> None:
    mine = finished_submission(alice, toonnet, toonnet_built, seed=4, method="alice's entry",
                               artefact=SimpleUploadedFile("p.zip", b"alice's predictions"))
    theirs = finished_submission(bob, toonnet, toonnet_built, seed=5, method="bob's entry")
    PairedComparison.objects.create(metric="top1_error", first=theirs.result, second=mine.result)
    bobs_numbers = list(MetricValue.objects.filter(submission=theirs).values_list("name", "value"))
    artefact = mine.artefact.name
    left = remaining_submissions(team_of(alice), toonnet)
    assert default_storage.exists(artefact) and sorted(board_methods(Client())) == ["alice's entry", "bob's entry"]

    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(alice).delete(f"/api/v1/submissions/{mine.pk}/")
    assert response.status_code == 204 and response.content == b""
    assert board_methods(Client()) == ["bob's entry"] and board_methods(as_user(alice)) == ["bob's entry"]
    assert as_user(alice).get(f"/api/v1/submissions/{mine.pk}/").status_code == 404
    assert as_user(alice).get("/api/v1/submissions/").json()["results"] == []
    assert Client().get(f"/submissions/{mine.pk}/").status_code == 404
    assert not Result.objects.filter(submission=mine).exists() and not default_storage.exists(artefact)
    assert not PairedComparison.objects.exists()
    assert list(MetricValue.objects.filter(submission=theirs).values_list("name", "value")) == bobs_numbers
    assert remaining_submissions(team_of(alice), toonnet) == left
    assert Submission.objects.filter(pk=mine.pk, deleted_at__isnull=False, status=Status.FINISHED).exists()


def test_deleting_a_queued_submission_cancels_it_first(toonnet: Benchmark, alice: User) -> None:
    waiting = queued(alice, toonnet, "waiting")
    assert as_user(alice).delete(f"/api/v1/submissions/{waiting.pk}/").status_code == 204
    waiting.refresh_from_db()
    assert waiting.status == Status.CANCELLED and waiting.status_reason == "deleted by its owner"
    assert waiting.deleted_at is not None


def test_deleting_is_for_the_owner_and_never_a_baseline(toonnet: Benchmark, alice: User, bob: User,
                                                        toonnet_built: BuiltBenchmark) -> None:
    public = finished_submission(alice, toonnet, toonnet_built, seed=6, method="alice's public")
    private = queued(alice, toonnet, "alice's private", is_public=False)
    baseline = finished_submission(bob, toonnet, toonnet_built, seed=7, method="a baseline", is_baseline=True)
    assert as_user(bob).delete(f"/api/v1/submissions/{public.pk}/").json() == {
        "error": f"only the owner of submission #{public.pk} may delete it", "field": None}
    assert as_user(bob).delete(f"/api/v1/submissions/{private.pk}/").status_code == 404
    refused = as_user(bob).delete(f"/api/v1/submissions/{baseline.pk}/")
    assert refused.status_code == 403 and refused.json() == {
        "error": f"submission #{baseline.pk} is a bundled baseline; baselines cannot be deleted", "field": None}
    assert as_user(None).delete(f"/api/v1/submissions/{public.pk}/").status_code == 401
    assert Submission.objects.live().filter(pk__in=[public.pk, private.pk, baseline.pk]).count() == 3


def test_a_deleted_submission_leaves_a_ladder_board_too(toonnet: Benchmark, alice: User,
                                                        toonnet_built: BuiltBenchmark) -> None:
    now = timezone.now()
    ladder = Phase.objects.create(benchmark=toonnet, slug="ladder", title="Ladder", split="ladder",
                                  leaderboard="ladder", opens=now - timedelta(days=1), closes=now + timedelta(days=1))
    mine = finished_submission(alice, toonnet, toonnet_built, seed=8, method="on the ladder", phase=ladder)
    LadderScore.objects.create(phase=ladder, team=mine.team, submission=mine, score=0.5)
    assert board_methods(Client(), "?phase=ladder") == ["on the ladder"]
    assert as_user(alice).delete(f"/api/v1/submissions/{mine.pk}/").status_code == 204
    assert board_methods(Client(), "?phase=ladder") == []
