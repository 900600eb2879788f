"""Teams through the site and the API: create, invite, accept, decline, withdraw, leave.

Every participant enters as a team: the one they joined, else their
personal team of one. Each bad request is refused with one line saying what
was expected, and leaves teams, memberships and invitations as they were.
"""

from __future__ import annotations

from html import unescape
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.authtoken.models import Token

from teams import services
from teams.models import Invitation, Membership, Team

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


@pytest.fixture
def carol(django_user_model: type[User]) -> User:
    return django_user_model.objects.create_user("carol", "carol@example.org", PASSWORD)


def api(user: User) -> Client:
    """A client that speaks to the API with ``user``'s token, as the command-line client does."""
    return Client(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")


def browser(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def snapshot() -> tuple[list[Any], ...]:
    """Every row teams hold, to show that a refusal changed nothing."""
    return (
        list(Team.objects.order_by("pk").values_list("pk", "name", "personal_for")),
        list(Membership.objects.order_by("pk").values_list("pk", "team", "user")),
        list(Invitation.objects.order_by("pk").values_list("pk", "team", "invitee", "inviter", "state")),
    )


def page_messages(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def names(response: Any) -> list[str]:
    return response.json()["members"]


def test_a_team_is_made_through_the_pages_from_creation_to_the_last_member_leaving(alice, bob) -> None:  # type: ignore[no-untyped-def]
    as_alice, as_bob = browser(alice), browser(bob)
    assert "Create team" in as_alice.get("/team/").content.decode()

    created = as_alice.post("/team/create/", {"name": "red-pandas"}, follow=True)
    assert page_messages(created) == ["Team red-pandas created; invite others by their username."]
    invited = as_alice.post("/team/invite/", {"username": "bob"}, follow=True)
    assert page_messages(invited) == ["bob is invited to red-pandas."]
    assert "bob" in unescape(invited.content.decode().split('id="sent"')[1].split("</ul>")[0])

    invitation = Invitation.objects.get()
    bobs_page = as_bob.get("/team/").content.decode()
    assert f"/team/invitations/{invitation.pk}/accept/" in bobs_page and "from alice" in bobs_page
    accepted = as_bob.post(f"/team/invitations/{invitation.pk}/accept/", follow=True)
    assert page_messages(accepted) == ["You joined red-pandas."]

    public = Client().get("/teams/red-pandas/")
    assert public.status_code == 200
    assert [member.username for member in public.context["members"]] == ["alice", "bob"]
    assert 'id="entries"' in public.content.decode()
    assert "red-pandas" in Client().get("/teams/").content.decode()

    team = Team.objects.get(name="red-pandas")
    assert services.team_of(alice) == services.team_of(bob) == team
    left = as_bob.post("/team/leave/", follow=True)
    assert page_messages(left) == ["You left red-pandas; you now enter as bob."]
    assert services.team_of(bob).personal_for == bob and services.team_of(bob).name == "bob"

    as_alice.post("/team/leave/")
    assert Team.objects.filter(name="red-pandas").exists() and not team.memberships.exists()
    assert "Nobody is in this team now." in Client().get("/teams/red-pandas/").content.decode()


def test_a_team_is_made_through_the_api(alice, bob) -> None:  # type: ignore[no-untyped-def]
    created = api(alice).post("/api/teams/", {"name": "red-pandas"})
    assert created.status_code == 201, created.content
    assert created.json()["name"] == "red-pandas" and created.json()["members"] == ["alice"]
    assert created.json()["personal"] is False

    invited = api(alice).post("/api/teams/red-pandas/invitations/", {"username": "bob"})
    assert invited.status_code == 201
    assert {key: invited.json()[key] for key in ("team", "invitee", "inviter", "state")} == {
        "team": "red-pandas", "invitee": "bob", "inviter": "alice", "state": "pending"}
    waiting = api(bob).get("/api/teams/invitations/").json()["results"]
    assert [item["id"] for item in waiting] == [invited.json()["id"]]

    accepted = api(bob).post(f"/api/teams/invitations/{invited.json()['id']}/accept/")
    assert accepted.status_code == 200 and accepted.json()["state"] == "accepted"
    assert names(Client().get("/api/teams/red-pandas/")) == ["alice", "bob"]
    mine = api(bob).get("/api/teams/mine/").json()
    assert mine["team"]["name"] == "red-pandas" and mine["enters_as"] == "red-pandas" and mine["invitations"] == []
    listed = Client().get("/api/teams/").json()
    assert listed["count"] == 1 and listed["results"][0]["members"] == ["alice", "bob"]

    left = api(bob).post("/api/teams/red-pandas/leave/")
    assert left.status_code == 200 and left.json()["members"] == ["alice"]
    assert api(bob).get("/api/teams/mine/").json() == {"team": None, "enters_as": "bob", "invitations": [],
                                                        "sent": []}


def test_a_declined_or_withdrawn_invitation_adds_nobody(alice, bob, carol) -> None:  # type: ignore[no-untyped-def]
    team = services.create_team(alice, "red-pandas")
    to_bob = services.invite(alice, team, "bob")
    to_carol = services.invite(alice, team, "carol")

    declined = api(bob).post(f"/api/teams/invitations/{to_bob.pk}/decline/")
    withdrawn = browser(alice).post(f"/team/invitations/{to_carol.pk}/withdraw/", follow=True)

    assert declined.status_code == 200 and declined.json()["state"] == "declined"
    assert page_messages(withdrawn) == ["The invitation to carol is withdrawn."]
    assert list(Invitation.objects.order_by("pk").values_list("state", flat=True)) == ["declined", "withdrawn"]
    assert list(services.members(team)) == [alice]
    assert services.pending_for(bob).count() == services.pending_for(carol).count() == 0


def test_the_last_member_out_withdraws_the_open_invitations_and_keeps_the_team(alice, bob) -> None:  # type: ignore[no-untyped-def]
    team = services.create_team(alice, "red-pandas")
    invitation = services.invite(alice, team, "bob")

    assert api(alice).post("/api/teams/red-pandas/leave/").status_code == 200

    invitation.refresh_from_db()
    assert invitation.state == "withdrawn" and invitation.answered is not None
    assert Team.objects.filter(pk=team.pk).exists()
    refused = api(bob).post(f"/api/teams/invitations/{invitation.pk}/accept/")
    assert refused.json() == {"error": "this invitation is already withdrawn; expected a pending one", "field": None}


def test_a_participant_on_their_own_is_a_personal_team_of_one(client, alice) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/teams/alice/").status_code == 404  # made on first need, not by a visit

    personal = services.team_of(alice)

    assert services.team_of(alice) == personal and Team.objects.filter(personal_for=alice).count() == 1
    assert personal.name == "alice" and personal.is_personal and list(services.members(personal)) == [alice]
    assert client.get("/api/teams/alice/").json()["personal"] is True
    assert "team of one" in client.get("/teams/alice/").content.decode()
    assert Client().get("/api/teams/").json()["count"] == 0


def test_signup_refuses_a_teams_name(client, alice) -> None:  # type: ignore[no-untyped-def]
    services.create_team(alice, "red-pandas")
    response = client.post("/accounts/signup/", {"username": "Red-Pandas", "email": "r@example.org",
                                                 "password1": "correct horse battery staple 42",
                                                 "password2": "correct horse battery staple 42"})
    assert response.status_code == 400
    assert response.context["form"].errors["username"] == ["the username 'Red-Pandas' is a team's name; choose another"]
    assert not User.objects.filter(username="Red-Pandas").exists()


@pytest.mark.parametrize("name, expected", [
    ("Red Pandas", "team name 'Red Pandas': expected 2 to 40 lower-case letters, digits and . _ -, starting and "
                   "ending with a letter or digit"),
    ("-pandas", "team name '-pandas': expected 2 to 40"),
    ("x", "team name 'x': expected 2 to 40"),
    ("a" * 41, "expected 2 to 40"),
    ("admin", "team name 'admin' is reserved for the platform; choose another"),
    ("toonbench-team", "team name 'toonbench-team' is reserved for the platform; choose another"),
    ("invitations", "team name 'invitations' is reserved for the platform; choose another"),
    ("bob", "team name 'bob' is taken by a user or a team; choose another"),
    ("taken", "team name 'taken' is taken by a user or a team; choose another"),
])
def test_a_bad_or_taken_name_is_refused(alice, bob, django_user_model, name, expected) -> None:  # type: ignore[no-untyped-def]
    owner = django_user_model.objects.create_user("dora", "d@example.org", PASSWORD)
    services.create_team(owner, "taken")
    before = snapshot()

    response = api(alice).post("/api/teams/", {"name": name})

    assert response.status_code == 400 and expected in response.json()["error"]
    assert "\n" not in response.json()["error"]
    assert snapshot() == before


@pytest.fixture
def world(alice, bob, carol, django_user_model) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """alice leads red-pandas, which invited bob; carol leads otters; dora is on her own."""
    dora = django_user_model.objects.create_user("dora", "dora@example.org", PASSWORD)
    pandas = services.create_team(alice, "red-pandas")
    otters = services.create_team(carol, "otters")
    return {"alice": alice, "bob": bob, "carol": carol, "dora": dora, "pandas": pandas, "otters": otters,
            "to_bob": services.invite(alice, pandas, "bob")}


REFUSALS = {
    "invite an unknown user": ("alice", "post", "/api/teams/red-pandas/invitations/", {"username": "zed"}, 400,
                               "no user named 'zed'; expected the exact username of an account"),
    "invite as a non-member": ("dora", "post", "/api/teams/red-pandas/invitations/", {"username": "dora"}, 403,
                               "only members of team 'red-pandas' may invite to it"),
    "invite a member": ("alice", "post", "/api/teams/red-pandas/invitations/", {"username": "alice"}, 400,
                        "'alice' is already a member of team 'red-pandas'"),
    "invite twice": ("alice", "post", "/api/teams/red-pandas/invitations/", {"username": "bob"}, 400,
                     "'bob' already has a pending invitation to team 'red-pandas'"),
    "invite to a personal team": ("dora", "post", "/api/teams/dora/invitations/", {"username": "bob"}, 400,
                                  "'dora' is a personal team and takes no members; create a team to invite others"),
    "accept someone else's invitation": ("dora", "post", "/api/teams/invitations/{to_bob}/accept/", {}, 403,
                                         "only 'bob' may accept this invitation"),
    "decline someone else's invitation": ("alice", "post", "/api/teams/invitations/{to_bob}/decline/", {}, 403,
                                          "only 'bob' may decline this invitation"),
    "withdraw as a non-member": ("carol", "post", "/api/teams/invitations/{to_bob}/withdraw/", {}, 403,
                                "only members of team 'red-pandas' may withdraw its invitations"),
    "join a second team": ("carol", "post", "/api/teams/invitations/{to_carol}/accept/", {}, 400,
                           "you are in team 'otters'; leave it before joining 'red-pandas'"),
    "create a second team": ("alice", "post", "/api/teams/", {"name": "more-pandas"}, 400,
                             "you are in team 'red-pandas'; leave it before creating another"),
    "leave a team one is not in": ("dora", "post", "/api/teams/red-pandas/leave/", {}, 400,
                                   "you are not a member of team 'red-pandas'"),
    "leave a personal team": ("dora", "post", "/api/teams/dora/leave/", {}, 400,
                              "'dora' is a personal team; there is no team to leave"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_each_bad_request_is_refused_in_one_line_and_changes_nothing(world, case) -> None:  # type: ignore[no-untyped-def]
    who, method, url, body, status, expected = REFUSALS[case]
    services.team_of(world["dora"])
    to_carol = services.invite(world["alice"], world["pandas"], "carol")
    before = snapshot()

    response = getattr(api(world[who]), method)(url.format(to_bob=world["to_bob"].pk, to_carol=to_carol.pk), body)

    assert response.status_code == status, response.content
    assert response.json() == {"error": expected, "field": None}
    assert snapshot() == before


PAGE_REFUSALS = {
    "invite an unknown user": ("alice", "/team/invite/", {"username": "zed"}, 400,
                               "no user named 'zed'; expected the exact username of an account"),
    "invite while in no team": ("dora", "/team/invite/", {"username": "bob"}, 400,
                                "you are in no team; create one before inviting"),
    "accept someone else's invitation": ("dora", "/team/invitations/{to_bob}/accept/", {}, 403,
                                         "only 'bob' may accept this invitation"),
    "create with a taken name": ("dora", "/team/create/", {"name": "otters"}, 400,
                                 "team name 'otters' is taken by a user or a team; choose another"),
    "create with a reserved name": ("dora", "/team/create/", {"name": "admin"}, 400,
                                    "team name 'admin' is reserved for the platform; choose another"),
    "leave while in no team": ("dora", "/team/leave/", {}, 400, "you are in no team; there is no team to leave"),
}


@pytest.mark.parametrize("case", sorted(PAGE_REFUSALS))
def test_the_pages_refuse_the_same_way(world, case) -> None:  # type: ignore[no-untyped-def]
    who, url, body, status, expected = PAGE_REFUSALS[case]
    before = snapshot()

    response = browser(world[who]).post(url.format(to_bob=world["to_bob"].pk), body)

    assert response.status_code == status
    assert page_messages(response) == [expected]
    assert expected.replace("'", "&#x27;") in response.content.decode()
    assert snapshot() == before


def test_changes_need_an_account_and_unknown_things_are_not_found(client, world) -> None:  # type: ignore[no-untyped-def]
    before = snapshot()
    assert client.post("/api/teams/", {"name": "ghosts"}).status_code == 401
    assert client.post("/api/teams/red-pandas/invitations/", {"username": "dora"}).status_code == 401
    assert client.get("/api/teams/mine/").status_code == 401
    assert client.post("/team/create/", {"name": "ghosts"}).status_code == 302  # to the login page
    assert client.get("/team/").status_code == 302
    assert client.get("/teams/nobody/").status_code == 404
    assert api(world["bob"]).post("/api/teams/nobody/leave/").status_code == 404
    assert api(world["bob"]).post("/api/teams/invitations/999999/accept/").status_code == 404
    assert browser(world["bob"]).get("/team/create/").status_code == 405
    assert snapshot() == before


def test_the_openapi_schema_describes_the_team_endpoints(client) -> None:  # type: ignore[no-untyped-def]
    paths = client.get("/api/schema/?format=json").json()["paths"]
    for path, method in [("/api/v1/teams/", "get"), ("/api/v1/teams/", "post"), ("/api/v1/teams/{name}/", "get"),
                         ("/api/v1/teams/mine/", "get"), ("/api/v1/teams/{name}/invitations/", "post"),
                         ("/api/v1/teams/invitations/", "get"), ("/api/v1/teams/invitations/{id}/accept/", "post"),
                         ("/api/v1/teams/invitations/{id}/decline/", "post"),
                         ("/api/v1/teams/invitations/{id}/withdraw/", "post"), ("/api/v1/teams/{name}/leave/", "post")]:
        assert method in paths.get(path, {}), path
    assert paths["/api/v1/teams/"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/NewTeam")


def test_staff_adding_a_team_in_the_admin_meet_the_same_name_rules(alice, django_user_model) -> None:  # type: ignore[no-untyped-def]
    staff = django_user_model.objects.create_user("staff", "s@example.org", PASSWORD, is_staff=True, is_superuser=True)
    form = {"name": "alice", "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"}

    refused = browser(staff).post("/admin/teams/team/add/", form)
    added = browser(staff).post("/admin/teams/team/add/", {**form, "name": "otters"})

    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["name"] == [
        "team name 'alice' is taken by a user or a team; choose another"]
    assert added.status_code == 302 and list(Team.objects.values_list("name", flat=True)) == ["otters"]
    assert browser(staff).get(f"/admin/teams/team/{Team.objects.get().pk}/change/").status_code == 200
