"""Registry namespaces follow teams: every current member pushes and pulls ``<team>/...``, nobody else does.

Through the real token view (and, for the last test, a real ``docker push``
to the platform registry); ``<user>/...`` keeps working beside the team's.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.authtoken.models import Token

from registry.policy import ImageRefused, pin_image
from registry_helpers import forget, push
from teams import services
from teams.models import Team
from test_registry_tokens import ask, basic, claims

ADDRESS = "127.0.0.1:5999"  # the address the signing_key fixture sets
BOTH = ["pull", "push"]


@pytest.fixture
def carol(django_user_model: type[User]) -> User:
    return django_user_model.objects.create_user("carol", "carol@example.org", "correct horse battery")


@pytest.fixture
def pandas(alice: User, bob: User) -> Team:
    """red-pandas: alice and bob."""
    team = services.create_team(alice, "red-pandas")
    services.accept(bob, services.invite(alice, team, "bob"))
    return team


def login(user: User) -> dict[str, str]:
    return basic(user.get_username(), Token.objects.get_or_create(user=user)[0].key)


def refusal(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 403, response.content
    assert response.json()["errors"][0]["code"] == "DENIED"
    return str(response.json()["errors"][0]["message"])


@pytest.mark.django_db
def test_every_member_pushes_and_pulls_the_teams_namespace_and_their_own(client, alice, bob, pandas, signing_key) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    for member in (alice, bob):
        own = f"{member.get_username()}/model"
        answer = ask(client, login(member), "repository:red-pandas/model:pull,push", f"repository:{own}:pull,push")
        assert claims(answer, signing_key)["access"] == [
            {"type": "repository", "name": "red-pandas/model", "actions": BOTH},
            {"type": "repository", "name": own, "actions": BOTH},
        ]


@pytest.mark.django_db
def test_a_non_member_and_a_pending_invitee_get_nothing_of_the_team(client, alice, pandas, carol, signing_key) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    services.invite(alice, pandas, "carol")

    pulled = claims(ask(client, login(carol), "repository:red-pandas/model:pull"), signing_key)
    pushed = ask(client, login(carol), "repository:red-pandas/model:pull,push")

    assert pulled["access"] == []
    assert refusal(pushed) == (f"red-pandas/model is outside your namespace: carol may push only to "
                               f"{ADDRESS}/carol/<name>:<tag>")


@pytest.mark.django_db
def test_a_member_who_left_is_refused_the_teams_namespace_and_keeps_their_own(client, alice, bob, pandas, signing_key) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    services.leave(bob, pandas)

    pushed = ask(client, login(bob), "repository:red-pandas/model:pull,push")
    pulled = claims(ask(client, login(bob), "repository:red-pandas/model:pull", "repository:bob/model:pull,push"),
                    signing_key)
    stayed = claims(ask(client, login(alice), "repository:red-pandas/model:pull,push"), signing_key)

    assert refusal(pushed) == f"red-pandas/model is outside your namespace: bob may push only to {ADDRESS}/bob/<name>:<tag>"
    assert pulled["access"] == [{"type": "repository", "name": "bob/model", "actions": BOTH}]
    assert stayed["access"] == [{"type": "repository", "name": "red-pandas/model", "actions": BOTH}]


@pytest.mark.django_db
def test_a_push_outside_names_both_of_a_members_namespaces(client, alice, pandas, signing_key) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    refused = ask(client, login(alice), "repository:otters/model:push")
    assert refusal(refused) == (f"otters/model is outside your namespaces: alice may push only to "
                                f"{ADDRESS}/alice/<name>:<tag> or {ADDRESS}/red-pandas/<name>:<tag>")
    # A repository named like the team but outside it.
    assert refusal(ask(client, login(alice), "repository:red-pandas-evil/model:push")).startswith("red-pandas-evil/")


@pytest.mark.django_db
def test_a_user_named_like_a_team_gets_no_namespace_of_that_name(client, alice, pandas, django_user_model, signing_key) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    namesake = django_user_model.objects.create_user("red-pandas", "n@example.org", "correct horse battery")

    pushed = ask(client, login(namesake), "repository:red-pandas/model:push")
    pulled = claims(ask(client, login(namesake), "repository:red-pandas/model:pull"), signing_key)

    assert "cannot name a registry namespace" in refusal(pushed)
    assert pulled["access"] == []


@pytest.mark.django_db
def test_the_api_and_the_submit_page_show_the_teams_namespace(client, alice, bob, pandas, toonnet, signing_key) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    def info(user: User) -> dict[str, object]:
        return Client().get("/api/registry/", HTTP_AUTHORIZATION=f"Token {Token.objects.get(user=user).key}").json()

    for member in (alice, bob):
        login(member)
    assert {key: info(bob)[key] for key in ("namespace", "team_namespace")} == {"namespace": "bob",
                                                                                "team_namespace": "red-pandas"}
    client.force_login(bob)
    assert f"and your team's <code>{ADDRESS}/red-pandas/</code>" in client.get("/submit/").content.decode()

    services.leave(bob, pandas)

    assert info(bob)["team_namespace"] is None and info(alice)["team_namespace"] == "red-pandas"
    assert "your team" not in client.get("/submit/").content.decode()


@pytest.mark.django_db
def test_a_submission_may_not_name_a_team_image_once_its_owner_has_left(alice, bob, pandas, signing_key) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    services.leave(bob, pandas)

    with pytest.raises(ImageRefused) as refused:
        pin_image(bob, f"{ADDRESS}/red-pandas/model:1")

    assert str(refused.value) == (f"{ADDRESS}/red-pandas/model:1 is not an image you pushed: a submission may run "
                                  f"only images under {ADDRESS}/bob/ or in a registry outside the platform")


@pytest.mark.django_db(transaction=True)
@pytest.mark.docker
@pytest.mark.slow
def test_members_push_and_run_team_images_through_the_real_registry_until_they_leave(  # type: ignore[no-untyped-def]
    docker_client, platform_registry, alice, bob, index_scores_image
) -> None:
    team = services.create_team(alice, "red-pandas")
    services.accept(bob, services.invite(alice, team, "bob"))
    repository = f"{platform_registry.address}/red-pandas/index-scores"
    auth = {member.get_username(): {"username": member.get_username(),
                                    "password": Token.objects.create(user=member).key} for member in (alice, bob)}
    try:
        digest, error = push(docker_client, index_scores_image, repository, "v1", auth["alice"])
        assert error == "" and digest.startswith("sha256:")
        assert pin_image(bob, f"{repository}:v1").digest == digest  # another member runs it

        services.leave(bob, team)

        digest, error = push(docker_client, index_scores_image, repository, "v2", auth["bob"])
    finally:
        forget(docker_client, f"{repository}:v1", f"{repository}:v2")
    assert digest == ""
    assert (f"red-pandas/index-scores is outside your namespace: bob may push only to "
            f"{platform_registry.address}/bob/") in error
    with pytest.raises(ImageRefused, match="is not an image you pushed"):
        pin_image(bob, f"{repository}:v1")
