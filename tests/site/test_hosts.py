"""Hosts per benchmark: co-organisers, registration and terms, the host desk's view and exports, and re-scores.

Everything goes through the API as a participant or a host would call it;
submissions enter through the API intake, and finished ones are stored as the
worker stores them (``site_helpers.finished_submission``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.authtoken.models import Token

from benchmarks.models import Benchmark, ProtocolVersion
from hostdesk import rescore as rescore_module
from hostdesk.models import Rescore
from organisers.models import BenchmarkHost, Competition, Registration
from results.models import Result
from site_helpers import finished_submission, npy_bytes, seeded_scores, zip_bytes
from submissions.models import Status, Submission

pytestmark = pytest.mark.django_db


def api(user: User | None = None) -> Client:
    if user is None:
        return Client()
    return Client(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")


@pytest.fixture
def owner(django_user_model: type[User], toonnet: Benchmark) -> User:
    user = django_user_model.objects.create_user("olga", "olga@example.org", "correct horse battery")
    BenchmarkHost.objects.create(benchmark=toonnet, user=user, role="owner")
    return user


@pytest.fixture
def cohost(django_user_model: type[User], owner: User) -> User:
    user = django_user_model.objects.create_user("colin", "colin@example.org", "correct horse battery")
    response = api(owner).post("/api/benchmarks/toonnet/hosts/", {"username": "colin"})
    assert response.status_code == 201 and response.json()["role"] == "co_organiser"
    return user


def post_predictions(user: User, toonnet_built, method: str = "mine") -> Client:  # type: ignore[no-untyped-def]
    archive = zip_bytes({"scores.npy": npy_bytes(seeded_scores(toonnet_built, 3))})
    return api(user).post("/api/submissions/", {
        "benchmark": "toonnet", "kind": "predictions", "method_name": method,
        "artefact": SimpleUploadedFile("predictions.zip", archive, content_type="application/zip"),
    })


# ---------------------------------------------------------------- hosts


def test_the_owner_adds_and_removes_co_organisers_and_no_one_else_may(owner, cohost, alice, bob) -> None:  # type: ignore[no-untyped-def]
    assert [h["username"] for h in api().get("/api/benchmarks/toonnet/hosts/").json()] == ["olga", "colin"]
    refused = api(cohost).post("/api/benchmarks/toonnet/hosts/", {"username": "alice"})
    assert refused.status_code == 403
    assert refused.json() == {"error": "only the owner of toonnet may add or remove co-organisers", "field": None}
    assert api(alice).delete("/api/benchmarks/toonnet/hosts/colin/").status_code == 403
    twice = api(owner).post("/api/benchmarks/toonnet/hosts/", {"username": "colin"})
    assert twice.status_code == 400 and twice.json() == {"error": "user: colin already hosts toonnet", "field": None}
    not_owner = api(owner).delete("/api/benchmarks/toonnet/hosts/olga/")
    assert not_owner.status_code == 400 and not_owner.json() == {
        "error": "user: olga owns toonnet; an owner stays", "field": None}
    assert BenchmarkHost.objects.count() == 2
    assert api(owner).delete("/api/benchmarks/toonnet/hosts/colin/").status_code == 204
    assert list(BenchmarkHost.objects.values_list("user__username", flat=True)) == ["olga"]


# ---------------------------------------------------------------- host desk


def test_a_co_organiser_sees_every_submission_and_exports_private_and_failed_ones(  # type: ignore[no-untyped-def]
    cohost, alice, bob, toonnet, toonnet_built,
) -> None:
    public = finished_submission(alice, toonnet, toonnet_built, seed=1, method="=HYPERLINK(\"x\")")
    private = finished_submission(bob, toonnet, toonnet_built, seed=2, method="bob private", is_public=False)
    failed = Submission.objects.create(owner=bob, team=bob.personal_team, benchmark=toonnet,
                                       protocol=toonnet.current_version(), kind="image", method_name="broken",
                                       image_ref="r/b:1", image_digest="sha256:" + "ab" * 32, is_public=False,
                                       status=Status.FAILED, status_reason="the container exited with code 3",
                                       log_tail="Traceback: boom")
    entries = api(cohost).get("/api/benchmarks/toonnet/entries/").json()
    assert [e["id"] for e in entries] == [public.pk, private.pk, failed.pk]
    assert entries[2]["log_tail"] == "Traceback: boom" and entries[2]["status"] == "failed"

    records = api(cohost).get("/api/benchmarks/toonnet/export.json").json()
    assert [(r["method"], r["status"], r["is_public"]) for r in records] == [
        ("=HYPERLINK(\"x\")", "finished", True), ("bob private", "finished", False), ("broken", "failed", False)]
    assert records[2]["failure_reason"] == "the container exited with code 3"
    assert records[2]["image_digest"] == "sha256:" + "ab" * 32 and records[2]["members"] == ["bob"]
    assert records[1]["metrics"] == Result.objects.get(submission=private).metrics

    response = api(cohost).get("/api/benchmarks/toonnet/export.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode(), newline="")))
    assert [row["method"] for row in rows] == ["'=HYPERLINK(\"x\")", "bob private", "broken"]
    assert float(rows[1]["top1_error"]) == pytest.approx(records[1]["metrics"]["top1_error"])
    assert rows[2]["top1_error"] == "" and rows[2]["status"] == "failed"


@pytest.mark.parametrize("path", ["/api/benchmarks/toonnet/entries/", "/api/benchmarks/toonnet/export.csv",
                                  "/api/benchmarks/toonnet/export.json"])
def test_everyone_but_the_hosts_is_refused_the_host_desk_in_one_line(path, owner, alice, toonnet, toonnet_built) -> None:  # type: ignore[no-untyped-def]
    finished_submission(alice, toonnet, toonnet_built, seed=1, is_public=False)
    response = api(alice).get(path)
    assert response.status_code == 403
    assert response.json() == {"error": "only the hosts of toonnet may " + (
        "see all its submissions" if "entries" in path else "export its submissions"), "field": None}
    assert api().get(path).status_code in (401, 403)


def test_an_export_of_an_unknown_phase_is_refused_in_one_line(owner) -> None:  # type: ignore[no-untyped-def]
    response = api(owner).get("/api/benchmarks/toonnet/export.json?phase=final")
    assert response.status_code == 404
    assert response.json() == {"error": "phase: toonnet has no phase 'final' (its phases: none)",
                               "field": "phase"}


# ---------------------------------------------------------------- registration and terms


def test_approval_registration_blocks_submitting_until_a_host_approves(  # type: ignore[no-untyped-def]
    owner, alice, toonnet, toonnet_built,
) -> None:
    Competition.objects.create(benchmark=toonnet, registration="approval", terms="Share your code.")
    before = Submission.objects.count()
    unregistered = post_predictions(alice, toonnet_built)
    assert unregistered.status_code == 400
    assert unregistered.json() == {"error": "team alice is not registered for toonnet; register for it first",
                                  "field": None}

    no_terms = api(alice).post("/api/benchmarks/toonnet/register/", {})
    assert no_terms.status_code == 400
    assert no_terms.json() == {"error": "accept_terms: the terms of toonnet (version 1) must be accepted",
                              "field": "accept_terms"}
    assert not Registration.objects.exists()

    registered = api(alice).post("/api/benchmarks/toonnet/register/", {"accept_terms": True})
    assert registered.status_code == 201 and registered.json()["state"] == "pending"
    pending = post_predictions(alice, toonnet_built)
    assert pending.json() == {"error": "the registration of team alice for toonnet awaits a host's approval",
                             "field": None}
    assert Submission.objects.count() == before

    registration = registered.json()["id"]
    assert api(alice).post(f"/api/benchmarks/toonnet/registrations/{registration}/",
                           {"decision": "approve"}).status_code == 403
    assert api(owner).get("/api/benchmarks/toonnet/registrations/").json()[0]["team"] == "alice"
    approved = api(owner).post(f"/api/benchmarks/toonnet/registrations/{registration}/", {"decision": "approve"})
    assert approved.json()["state"] == "approved"
    assert post_predictions(alice, toonnet_built).status_code == 201


def test_changed_terms_must_be_accepted_again(owner, alice, toonnet, toonnet_built) -> None:  # type: ignore[no-untyped-def]
    assert api(alice).patch("/api/benchmarks/toonnet/competition/", {"registration": "open"},
                            content_type="application/json").status_code == 403
    changed = api(owner).patch("/api/benchmarks/toonnet/competition/", {"registration": "open", "terms": "v1"},
                               content_type="application/json")
    assert changed.status_code == 200 and changed.json()["terms_version"] == 1
    assert api(alice).post("/api/benchmarks/toonnet/register/", {"accept_terms": True}).json()["state"] == "approved"
    assert post_predictions(alice, toonnet_built).status_code == 201
    api(owner).patch("/api/benchmarks/toonnet/competition/", {"terms": "v2: no external data"},
                     content_type="application/json")
    stale = post_predictions(alice, toonnet_built)
    assert stale.status_code == 400
    assert stale.json() == {"error": "the terms of toonnet changed (version 2); register again to accept them",
                           "field": None}
    assert api(alice).post("/api/benchmarks/toonnet/register/", {"accept_terms": True}).json()["terms_version"] == 2
    assert post_predictions(alice, toonnet_built).status_code == 201


# ---------------------------------------------------------------- re-score


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The ids of the jobs sent to the workers (the broker is not running here)."""
    sent: list[int] = []
    monkeypatch.setattr(rescore_module, "queue_evaluation", sent.append)
    yield sent


def new_protocol_version(benchmark: Benchmark) -> ProtocolVersion:
    """A second protocol version made current, as syncing a new spec version does."""
    old = benchmark.current_version()
    ProtocolVersion.objects.filter(pk=old.pk).update(is_current=False)
    return ProtocolVersion.objects.create(
        benchmark=benchmark, version=old.version + 1, spec_hash="f" * 64, protocol_hash="e" * 64,
        spec=old.spec, test_items=old.test_items, train_items=old.train_items, is_current=True)


def test_a_rescore_queues_one_job_per_entry_on_the_new_version_and_keeps_the_old_results(  # type: ignore[no-untyped-def]
    owner, alice, bob, toonnet, toonnet_built, queued, django_capture_on_commit_callbacks,
) -> None:
    first = finished_submission(alice, toonnet, toonnet_built, seed=1)
    second = finished_submission(bob, toonnet, toonnet_built, seed=2, is_public=False)
    old_metrics = {pk: Result.objects.get(submission_id=pk).metrics for pk in (first.pk, second.pk)}
    refused = api(owner).post("/api/benchmarks/toonnet/rescore/", {})
    assert refused.status_code == 400 and refused.json()["error"].startswith("no finished entry of toonnet")
    target = new_protocol_version(toonnet)
    assert api(alice).post("/api/benchmarks/toonnet/rescore/", {}).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = api(owner).post("/api/benchmarks/toonnet/rescore/", {})
    assert response.status_code == 202
    pairs = response.json()["rescored"]
    assert [p["original"] for p in pairs] == [first.pk, second.pk]
    assert queued == [p["rescored"] for p in pairs]
    copies = Submission.objects.filter(pk__in=queued).order_by("pk")
    assert [(c.protocol_id, c.status, c.method_name, c.owner.username) for c in copies] == [
        (target.pk, "queued", first.method_name, "alice"), (target.pk, "queued", second.method_name, "bob")]
    assert {pk: Result.objects.get(submission_id=pk).metrics for pk in (first.pk, second.pk)} == old_metrics
    assert Rescore.objects.count() == 2
    again = api(owner).post("/api/benchmarks/toonnet/rescore/", {})
    assert again.status_code == 400 and Rescore.objects.count() == 2
    exported = {r["id"]: r["rescored_from"] for r in api(owner).get("/api/benchmarks/toonnet/export.json").json()}
    assert exported == {first.pk: None, second.pk: None, queued[0]: first.pk, queued[1]: second.pk}


# ---------------------------------------------------------------- pages


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_team_registers_on_the_page_and_a_host_approves_it_on_the_hosting_page(owner, alice, toonnet) -> None:  # type: ignore[no-untyped-def]
    Competition.objects.create(benchmark=toonnet, registration="approval", terms="Share your code.")
    page = signed_in(alice).get("/benchmarks/toonnet/register/")
    assert page.status_code == 200 and "Share your code." in page.content.decode()
    unticked = signed_in(alice).post("/benchmarks/toonnet/register/", {})
    assert unticked.status_code == 400
    assert "accept_terms: the terms of toonnet (version 1) must be accepted" in unticked.content.decode()
    assert not Registration.objects.exists()
    assert signed_in(alice).post("/benchmarks/toonnet/register/", {"accept_terms": "on"}).status_code == 302
    registration = Registration.objects.get()
    assert (registration.team.name, registration.state, registration.terms_version) == ("alice", "pending", 1)

    assert signed_in(alice).get("/benchmarks/toonnet/hosting/").status_code == 403
    assert signed_in(alice).post(f"/benchmarks/toonnet/hosting/registrations/{registration.pk}/approve/").status_code == 403
    assert Registration.objects.get().state == "pending"
    desk = signed_in(owner).get("/benchmarks/toonnet/hosting/")
    assert desk.status_code == 200 and "alice" in desk.content.decode()
    assert signed_in(owner).post(f"/benchmarks/toonnet/hosting/registrations/{registration.pk}/approve/").status_code == 302
    assert Registration.objects.get().state == "approved"


def test_the_owner_adds_a_co_organiser_on_the_hosting_page(owner, alice, bob, toonnet) -> None:  # type: ignore[no-untyped-def]
    assert signed_in(owner).post("/benchmarks/toonnet/hosting/co-organisers/add/", {"username": "alice"}).status_code == 302
    assert signed_in(alice).get("/benchmarks/toonnet/hosting/").status_code == 200
    assert signed_in(alice).post("/benchmarks/toonnet/hosting/co-organisers/add/", {"username": "bob"}).status_code == 403
    unknown = signed_in(owner).post("/benchmarks/toonnet/hosting/co-organisers/add/", {"username": "nobody"})
    assert unknown.status_code == 400 and "username: no user is named &#x27;nobody&#x27;" in unknown.content.decode()
    assert sorted(BenchmarkHost.objects.values_list("user__username", flat=True)) == ["alice", "olga"]


def test_a_bad_decision_is_refused_in_one_line_and_nothing_changes(owner, alice, toonnet) -> None:  # type: ignore[no-untyped-def]
    Competition.objects.create(benchmark=toonnet, registration="approval")
    registration = api(alice).post("/api/benchmarks/toonnet/register/", {}).json()["id"]
    response = api(owner).post(f"/api/benchmarks/toonnet/registrations/{registration}/", {"decision": "maybe"})
    assert response.status_code == 400 and response.json() == {
        "error": 'decision: "maybe" is not a valid choice.', "field": "decision"}
    assert Registration.objects.get().state == "pending"
