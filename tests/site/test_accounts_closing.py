"""Deleting an account: the password is asked again; sign-in, token, address and team membership go; the
entries and their results stay on the leaderboards under "deleted user #<id>"; the name is never given
again; the baselines' owner cannot be deleted."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.cache import caches
from django.test import Client
from rest_framework.authtoken.models import Token

from accounts.closing import AccountRefused, close_account
from accounts.reserved import BASELINE_OWNER, ensure_baseline_owner
from benchmarks.models import Benchmark
from datasets.build import BuiltBenchmark
from results.models import Result
from site_helpers import finished_submission
from teams.models import Membership, Team
from teams.services import create_team

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def fresh_counters() -> None:
    """Deleting asks for the password, which counts as a sign-in attempt."""
    caches["throttle"].clear()


def signed_in(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def leaderboard_names(client: Client) -> list[tuple[str, str | None]]:
    rows = client.get("/api/benchmarks/toonnet/leaderboard/").json()["rows"]
    return [(row["submitter"], row["team"]) for row in rows]


def test_a_wrong_password_deletes_nothing(alice: User) -> None:
    client = signed_in("alice")
    response = client.post("/accounts/delete/", {"password": "not it"})
    assert response.status_code == 400
    assert "password: expected your current password" in response.content.decode()
    alice.refresh_from_db()
    assert alice.is_active and alice.username == "alice"


def test_deleting_keeps_the_results_under_a_deleted_users_name_and_ends_sign_in(
    site: object, toonnet: Benchmark, toonnet_built: BuiltBenchmark, alice: User, bob: User
) -> None:
    mine = finished_submission(alice, toonnet, toonnet_built, method="method of alice")
    finished_submission(bob, toonnet, toonnet_built, seed=11, method="method of bob")
    Token.objects.create(user=alice)
    assert sorted(leaderboard_names(Client())) == [("alice", "alice"), ("bob", "bob")]
    client = signed_in("alice")
    assert 'href="/accounts/delete/"' in client.get("/accounts/").content.decode()

    response = client.post("/accounts/delete/", {"password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"

    shown = f"deleted user #{alice.pk}"
    assert sorted(leaderboard_names(Client())) == [("bob", "bob"), (shown, shown)]
    page = Client().get("/benchmarks/toonnet/").content.decode()
    assert "method of alice" in page and f"by {shown}" in page and "by alice" not in page
    assert Result.objects.filter(submission=mine).exists()
    alice.refresh_from_db()
    assert (alice.username, alice.email, alice.is_active, alice.has_usable_password()) == (shown, "", False, False)
    assert not Token.objects.filter(user=alice).exists()
    assert client.get("/accounts/").status_code == 302  # the session ended with the account
    assert not Client().login(username="alice", password=PASSWORD)
    assert not Client().login(username=shown, password=PASSWORD)


def test_the_former_name_and_its_namespace_are_never_given_again(alice: User) -> None:
    close_account(alice)
    form = {"username": "alice", "email": "new@example.org", "password1": "another long passphrase",
            "password2": "another long passphrase"}
    response = Client().post("/accounts/signup/", form)
    assert response.status_code == 400 and "A user with that username already exists." in response.content.decode()
    holder = User.objects.get(username="alice")
    assert (holder.is_active, holder.has_usable_password(), holder.email) == (False, False, "")
    assert Client().get("/users/alice/").status_code == 404


def test_a_member_leaves_their_team_and_the_team_keeps_its_name(alice: User, bob: User) -> None:
    team = create_team(alice, "toonsquad")
    Membership.objects.create(team=team, user=bob)
    close_account(alice)
    assert list(Membership.objects.filter(team=team).values_list("user__username", flat=True)) == ["bob"]
    assert Team.objects.get(pk=team.pk).name == "toonsquad"


def test_the_baseline_owner_cannot_be_deleted() -> None:
    owner = ensure_baseline_owner(User)  # as its migration and the seeding make it
    with pytest.raises(AccountRefused, match="owns the bundled baselines and cannot be deleted"):
        close_account(owner)
    owner.refresh_from_db()
    assert owner.username == BASELINE_OWNER
