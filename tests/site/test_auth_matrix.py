"""Who may see and do what: anonymous, alice (owner), bob (another user), staff × every page and endpoint.

Also: every form needs its CSRF token, and the API accepts a token without one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Callable

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from submissions.models import Status, Submission
from site_helpers import finished_submission

pytestmark = pytest.mark.django_db

USERS = ["anonymous", "alice", "bob", "staff"]
SECRET_LOG = "secret internals"


@dataclass
class World:
    private: Submission
    public: Submission
    queued: Submission


@pytest.fixture
def staff(django_user_model):  # type: ignore[no-untyped-def]
    return django_user_model.objects.create_user("staff", "staff@example.org", "correct horse battery", is_staff=True,
                                                 is_superuser=True)


@pytest.fixture
def world(toonnet, alice, toonnet_built) -> World:  # type: ignore[no-untyped-def]
    queued = Submission.objects.create(owner=alice, benchmark=toonnet, protocol=toonnet.current_version(),
                                       kind="image", image_ref="a/b:1", method_name="queued one",
                                       log_tail=SECRET_LOG)
    return World(
        private=finished_submission(alice, toonnet, toonnet_built, seed=1, method="private one", is_public=False),
        public=finished_submission(alice, toonnet, toonnet_built, seed=2, method="public one"),
        queued=queued,
    )


def client_for(user: str, request: pytest.FixtureRequest) -> Client:
    client = Client()
    if user != "anonymous":
        client.force_login(request.getfixturevalue(user))
    return client


@dataclass(frozen=True)
class Case:
    method: str
    url: Callable[[World], str]
    expected: dict[str, int]


LOGIN = 302  # anonymous visitors are sent to the login page
CASES = {
    "private page": Case("get", lambda w: f"/submissions/{w.private.pk}/", {"anonymous": 404, "alice": 200, "bob": 404, "staff": 200}),
    "private status": Case("get", lambda w: f"/submissions/{w.private.pk}/status.json", {"anonymous": 404, "alice": 200, "bob": 404, "staff": 200}),
    "private figure": Case("get", lambda w: f"/submissions/{w.private.pk}/plots/confusion.png", {"anonymous": 404, "alice": 404, "bob": 404, "staff": 200}),
    "public page": Case("get", lambda w: f"/submissions/{w.public.pk}/", {"anonymous": 200, "alice": 200, "bob": 200, "staff": 200}),
    "public figure": Case("get", lambda w: f"/submissions/{w.public.pk}/plots/per_class.png", {"anonymous": 404, "alice": 404, "bob": 404, "staff": 200}),
    "home": Case("get", lambda w: "/", {"anonymous": 200, "alice": 200, "bob": 200, "staff": 200}),
    "benchmark": Case("get", lambda w: "/benchmarks/toonnet/", {"anonymous": 200, "alice": 200, "bob": 200, "staff": 200}),
    "my submissions": Case("get", lambda w: "/submissions/", {"anonymous": LOGIN, "alice": 200, "bob": 200, "staff": 200}),
    "submit page": Case("get", lambda w: "/submit/", {"anonymous": LOGIN, "alice": 200, "bob": 200, "staff": 200}),
    "tokens page": Case("get", lambda w: "/accounts/tokens/", {"anonymous": LOGIN, "alice": 200, "bob": 200, "staff": 200}),
    "admin": Case("get", lambda w: "/admin/", {"anonymous": LOGIN, "alice": LOGIN, "bob": LOGIN, "staff": 200}),
    "admin submissions": Case("get", lambda w: "/admin/submissions/submission/", {"anonymous": LOGIN, "alice": LOGIN, "bob": LOGIN, "staff": 200}),
    "cancel": Case("post", lambda w: f"/submissions/{w.queued.pk}/cancel/", {"anonymous": LOGIN, "alice": 302, "bob": 403, "staff": 302}),
    "cancel private": Case("post", lambda w: f"/submissions/{w.private.pk}/cancel/", {"anonymous": LOGIN, "alice": 302, "bob": 404, "staff": 302}),
    "re-run": Case("post", lambda w: f"/submissions/{w.public.pk}/rerun/", {"anonymous": LOGIN, "alice": 302, "bob": 403, "staff": 302}),
    "make private": Case("post", lambda w: f"/submissions/{w.public.pk}/visibility/", {"anonymous": LOGIN, "alice": 302, "bob": 403, "staff": 302}),
    "api private": Case("get", lambda w: f"/api/submissions/{w.private.pk}/", {"anonymous": 404, "alice": 200, "bob": 404, "staff": 200}),
    "api public": Case("get", lambda w: f"/api/submissions/{w.public.pk}/", {"anonymous": 200, "alice": 200, "bob": 200, "staff": 200}),
    "api my list": Case("get", lambda w: "/api/submissions/", {"anonymous": 401, "alice": 200, "bob": 200, "staff": 200}),
    "api cancel": Case("post", lambda w: f"/api/submissions/{w.queued.pk}/cancel/", {"anonymous": 401, "alice": 200, "bob": 403, "staff": 200}),
    "api leaderboard": Case("get", lambda w: "/api/benchmarks/toonnet/leaderboard/", {"anonymous": 200, "alice": 200, "bob": 200, "staff": 200}),
}


@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize("case_name", list(CASES))
def test_each_user_gets_the_expected_answer(case_name: str, user: str, world: World, request) -> None:  # type: ignore[no-untyped-def]
    case = CASES[case_name]
    client = client_for(user, request)
    response = getattr(client, case.method)(case.url(world))
    assert response.status_code == case.expected[user]
    if case.expected[user] == LOGIN and user == "anonymous":
        assert "/login/" in response["Location"]


@pytest.mark.parametrize(("user", "sees_log"), [("anonymous", False), ("alice", True), ("bob", False), ("staff", True)])
def test_only_the_owner_and_staff_read_the_log(user: str, sees_log: bool, world: World, request) -> None:  # type: ignore[no-untyped-def]
    client = client_for(user, request)
    page = client.get(f"/submissions/{world.public.pk}/").content.decode()
    assert (SECRET_LOG in page) is sees_log
    api = client.get(f"/api/submissions/{world.public.pk}/").json()
    assert (api["log_tail"] is not None and SECRET_LOG in api["log_tail"]) is sees_log


@pytest.mark.parametrize(("user", "changes"), [("anonymous", False), ("alice", True), ("bob", False), ("staff", True)])
def test_only_the_owner_and_staff_change_a_submission(user: str, changes: bool, world: World, request) -> None:  # type: ignore[no-untyped-def]
    client = client_for(user, request)
    client.post(f"/submissions/{world.queued.pk}/cancel/")
    client.post(f"/submissions/{world.public.pk}/visibility/", {"public": "0"})
    world.queued.refresh_from_db()
    world.public.refresh_from_db()
    assert (world.queued.status == Status.CANCELLED) is changes
    assert (world.public.is_public is False) is changes


@pytest.mark.parametrize("user", USERS)
def test_private_results_never_reach_the_leaderboard(user: str, world: World, request) -> None:  # type: ignore[no-untyped-def]
    client = client_for(user, request)
    assert "private one" not in client.get("/benchmarks/toonnet/").content.decode()
    rows = client.get("/api/benchmarks/toonnet/leaderboard/").json()["rows"]
    assert [row["submission"] for row in rows] == [world.public.pk]


def csrf_token(client: Client, url: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get(url).content.decode())
    assert match, f"no CSRF token in the form at {url}"
    return match.group(1)


@pytest.mark.parametrize(
    ("url", "form_page", "data"),
    [
        ("/submit/", "/submit/", {"benchmark": "toonnet", "kind": "image", "image_ref": "a/b:1", "method_name": "c"}),
        ("/accounts/tokens/", "/accounts/tokens/", {}),
        ("cancel", "/submissions/", {}),
        ("visibility", "/submissions/", {"public": "0"}),
    ],
    ids=["submit", "tokens", "cancel", "visibility"],
)
def test_forms_refuse_a_post_without_its_csrf_token(url: str, form_page: str, data: dict, world: World, alice,  # type: ignore[no-untyped-def]
                                                     monkeypatch) -> None:
    # Only the CSRF check is under test: the reference is pinned without a registry (tests/registry pins for real).
    monkeypatch.setattr("submissions.services.pin_image",
                        lambda owner, reference: SimpleNamespace(pinned=f"registry.example.org/{reference}@sha256:{'0' * 64}"))
    url = {"cancel": f"/submissions/{world.queued.pk}/cancel/",
           "visibility": f"/submissions/{world.public.pk}/visibility/"}.get(url, url)
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(url, data).status_code == 403
    token = csrf_token(client, form_page)
    assert client.post(url, dict(data, csrfmiddlewaretoken=token)).status_code == 302


def test_sign_up_and_log_in_need_their_csrf_token(db) -> None:  # type: ignore[no-untyped-def]
    client = Client(enforce_csrf_checks=True)
    form = {"username": "carol", "email": "carol@example.org", "password1": "a long pass phrase 42",
            "password2": "a long pass phrase 42"}
    assert client.post("/accounts/signup/", form).status_code == 403
    assert client.post("/accounts/signup/", dict(form, csrfmiddlewaretoken=csrf_token(client, "/accounts/signup/"))).status_code == 302
    other = Client(enforce_csrf_checks=True)
    login = {"username": "carol", "password": "a long pass phrase 42"}
    assert other.post("/accounts/login/", login).status_code == 403
    assert other.post("/accounts/login/", dict(login, csrfmiddlewaretoken=csrf_token(other, "/accounts/login/"))).status_code == 302


def test_the_api_needs_csrf_with_a_session_but_not_with_a_token(world: World, alice) -> None:  # type: ignore[no-untyped-def]
    session = Client(enforce_csrf_checks=True)
    session.force_login(alice)
    assert session.post(f"/api/submissions/{world.queued.pk}/cancel/").status_code == 403
    token = Token.objects.create(user=alice).key
    tokened = Client(enforce_csrf_checks=True)
    response = tokened.post(f"/api/submissions/{world.queued.pk}/cancel/", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200
