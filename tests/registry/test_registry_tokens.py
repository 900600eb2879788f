"""The registry token service: who gets which actions on which repository, and the token's claims."""

from __future__ import annotations

import base64
import hashlib
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from django.core.cache import caches
from django.test import Client
from rest_framework.authtoken.models import Token

from evaluator.bundle_readme import readme_text
from evaluator.contract import input_items

pytestmark = pytest.mark.django_db


def basic(username: str, password: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def ask(client: Client, auth: dict[str, str], *scopes: str, service: str = "toonbench-registry"):  # type: ignore[no-untyped-def]
    return client.get("/registry/token/", {"service": service, "scope": list(scopes)}, **auth)


def claims(response, key) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token"] == body["access_token"] and body["expires_in"] == 300
    return jwt.decode(body["token"], key.public_key(), algorithms=["RS256"], audience="toonbench-registry",
                      issuer="toonbench")


def expected_key_id(key) -> str:  # type: ignore[no-untyped-def]
    """libtrust's key id, written out here from its definition: base32 of sha256(SPKI)[:30], groups of 4."""
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    text = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode()
    assert len(text) == 48 and "=" not in text
    return ":".join(text[i:i + 4] for i in range(0, 48, 4))


def test_an_owner_gets_push_and_pull_in_their_namespace_with_the_specs_claims(client, alice, signing_key) -> None:  # type: ignore[no-untyped-def]
    token = Token.objects.create(user=alice)
    before = int(time.time())
    response = ask(client, basic("alice", token.key), "repository:alice/model:pull,push")
    decoded = claims(response, signing_key)
    assert decoded["sub"] == "alice" and decoded["iss"] == "toonbench" and decoded["aud"] == "toonbench-registry"
    assert decoded["access"] == [{"type": "repository", "name": "alice/model", "actions": ["pull", "push"]}]
    assert before <= decoded["iat"] == decoded["nbf"] <= int(time.time())
    assert decoded["exp"] - decoded["iat"] == 300 and len(decoded["jti"]) == 32
    header = jwt.get_unverified_header(response.json()["token"])
    assert header == {"alg": "RS256", "kid": expected_key_id(signing_key), "typ": "JWT"}


def test_another_users_repository_is_left_out_for_pull_and_refused_for_push(client, alice, bob, signing_key) -> None:  # type: ignore[no-untyped-def]
    token = Token.objects.create(user=alice)
    pulled = claims(ask(client, basic("alice", token.key), "repository:bob/model:pull",
                        "repository:alice/model:pull"), signing_key)
    assert pulled["access"] == [{"type": "repository", "name": "alice/model", "actions": ["pull"]}]
    pushed = ask(client, basic("alice", token.key), "repository:bob/model:pull,push")
    assert pushed.status_code == 403
    assert pushed.json()["errors"][0] == {
        "code": "DENIED", "detail": None,
        "message": "bob/model is outside your namespace: alice may push only to 127.0.0.1:5999/alice/<name>:<tag>",
    }
    # A repository named like the namespace but outside it.
    assert ask(client, basic("alice", token.key), "repository:alice-evil/model:push").status_code == 403
    assert claims(ask(client, basic("alice", token.key), "repository:alice:pull"), signing_key)["access"] == []


def test_every_user_may_pull_the_baseline_images_but_never_push_there(client, alice, signing_key) -> None:  # type: ignore[no-untyped-def]
    token = Token.objects.create(user=alice)
    pulled = claims(ask(client, basic("alice", token.key), "repository:toonbench/toonnet-resnet:pull",
                        "repository:toonbench-evil/model:pull"), signing_key)
    assert pulled["access"] == [{"type": "repository", "name": "toonbench/toonnet-resnet", "actions": ["pull"]}]
    pushed = ask(client, basic("alice", token.key), "repository:toonbench/toonnet-resnet:pull,push")
    assert pushed.status_code == 403
    assert pushed.json()["errors"][0]["message"].startswith("toonbench/toonnet-resnet is outside your namespace")


def test_the_worker_credential_pulls_everything_and_pushes_nothing(client, site, signing_key) -> None:  # type: ignore[no-untyped-def]
    site.TOONBENCH_REGISTRY_WORKER_PASSWORD = "worker secret"
    worker = basic("toonbench-worker", "worker secret")
    decoded = claims(ask(client, worker, "repository:bob/model:pull", "repository:alice/x:pull"), signing_key)
    assert decoded["sub"] == "toonbench-worker"
    assert [entry["name"] for entry in decoded["access"]] == ["bob/model", "alice/x"]
    refused = ask(client, worker, "repository:bob/model:pull,push")
    assert refused.status_code == 403 and "may only pull" in refused.json()["errors"][0]["message"]
    assert ask(client, basic("toonbench-worker", "wrong"), "repository:bob/model:pull").status_code == 401


@pytest.mark.parametrize("who", ["anonymous", "wrong token", "token of another user", "inactive user", "password"])
def test_nobody_else_gets_a_token(client, alice, bob, signing_key, who) -> None:  # type: ignore[no-untyped-def]
    token = Token.objects.create(user=alice)
    auth = {
        "anonymous": {},
        "wrong token": basic("alice", "0" * 40),
        "token of another user": basic("bob", token.key),
        "inactive user": basic("alice", token.key),
        "password": basic("alice", "correct horse battery"),
    }[who]
    if who == "inactive user":
        alice.is_active = False
        alice.save()
    response = ask(client, auth, "repository:alice/model:pull")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic")
    assert response.json()["errors"][0]["code"] == "UNAUTHORIZED"


def test_login_without_scope_gets_an_empty_token_and_other_resources_get_nothing(client, alice, signing_key) -> None:  # type: ignore[no-untyped-def]
    token = Token.objects.create(user=alice)
    assert claims(ask(client, basic("alice", token.key)), signing_key)["access"] == []
    assert claims(ask(client, basic("alice", token.key), "registry:catalog:*"), signing_key)["access"] == []


def test_bad_requests_say_what_was_wrong(client, alice, signing_key, django_user_model) -> None:  # type: ignore[no-untyped-def]
    token = Token.objects.create(user=alice)
    malformed = ask(client, basic("alice", token.key), "repository")
    assert malformed.status_code == 400 and "malformed scope 'repository'" in malformed.json()["errors"][0]["message"]
    other = ask(client, basic("alice", token.key), "repository:alice/m:pull", service="elsewhere")
    assert other.status_code == 400 and "unknown registry service 'elsewhere'" in other.json()["errors"][0]["message"]
    carol = django_user_model.objects.create_user("Carol.B", "c@example.org", "correct horse battery")
    refused = ask(client, basic("Carol.B", Token.objects.create(user=carol).key), "repository:carol.b/m:push")
    assert refused.status_code == 403 and "cannot name a registry namespace" in refused.json()["errors"][0]["message"]


def test_without_a_signing_key_the_service_says_it_is_not_set_up(client, alice, site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    site.TOONBENCH_REGISTRY_KEY = tmp_path / "missing.key"
    response = ask(client, basic("alice", Token.objects.create(user=alice).key), "repository:alice/m:pull")
    assert response.status_code == 503
    message = response.json()["errors"][0]["message"]
    assert "not set up on this server" in message and str(tmp_path) not in message


def test_the_api_advertises_the_registry_and_your_namespace(client, alice, signing_key) -> None:  # type: ignore[no-untyped-def]
    anonymous = client.get("/api/registry/").json()
    assert anonymous["address"] == "127.0.0.1:5999" and anonymous["namespace"] is None
    token = Token.objects.create(user=alice)
    mine = client.get("/api/registry/", HTTP_AUTHORIZATION=f"Token {token.key}").json()
    assert mine["username"] == "alice" and mine["namespace"] == "alice"
    assert mine["token_service"].endswith("/registry/token/")


def test_the_submit_page_and_the_bundle_readme_show_the_exact_push_commands(client, toonnet, toonnet_built, alice, signing_key) -> None:  # type: ignore[no-untyped-def]
    client.force_login(alice)
    html = client.get("/submit/").content.decode()
    for command in ('toonbench push toonnet mymodel:1 --method "My method"', "docker login 127.0.0.1:5999 -u alice",
                    "docker tag mymodel:1 127.0.0.1:5999/alice/mymodel:1", "docker push 127.0.0.1:5999/alice/mymodel:1"):
        assert command in html
    readme = readme_text(toonnet_built, input_items(toonnet_built))
    for command in ('toonbench push toonnet YOUR_IMAGE:1 --method "My method"', "docker login REGISTRY -u USERNAME",
                    "docker tag YOUR_IMAGE:1 REGISTRY/USERNAME/YOUR_IMAGE:1", "docker push REGISTRY/USERNAME/YOUR_IMAGE:1"):
        assert command in readme


def test_wrong_api_tokens_are_throttled_and_right_ones_are_not(client, alice, signing_key) -> None:  # type: ignore[no-untyped-def]
    caches["throttle"].clear()
    right = Token.objects.create(user=alice).key
    for _ in range(40):  # docker asks for a token at every push and pull: no request rate here
        assert ask(client, basic("alice", right), "repository:alice/model:pull").status_code == 200
    for attempt in range(10):
        assert ask(client, basic("alice", f"guess {attempt}"), "repository:alice/model:pull").status_code == 401
    refused = ask(client, basic("alice", right), "repository:alice/model:pull")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 900
    assert refused.json()["errors"][0]["code"] == "TOOMANYREQUESTS"
    assert "too many sign-in attempts" in refused.json()["errors"][0]["message"]
    caches["throttle"].clear()


@pytest.fixture
def empty_throttle():  # type: ignore[no-untyped-def]
    caches["throttle"].clear()
    yield
    caches["throttle"].clear()


@pytest.mark.parametrize("username", ["toonbench-worker", "alice"])
def test_wrong_passwords_from_one_address_never_lock_the_account_out_elsewhere(
    client, site, alice, signing_key, empty_throttle, username
) -> None:  # type: ignore[no-untyped-def]
    site.TOONBENCH_REGISTRY_WORKER_PASSWORD = "worker secret"
    right = "worker secret" if username == "toonbench-worker" else Token.objects.create(user=alice).key
    attacker, owner = {"REMOTE_ADDR": "203.0.113.5"}, {"REMOTE_ADDR": "10.0.0.9"}
    for attempt in range(12):
        wrong = ask(client, {**basic(username, f"guess {attempt}"), **attacker}, "repository:alice/model:pull")
        assert wrong.status_code in (401, 429)
    assert ask(client, {**basic(username, right), **attacker}, "repository:alice/model:pull").status_code == 429

    answer = ask(client, {**basic(username, right), **owner}, "repository:alice/model:pull")

    assert claims(answer, signing_key)["access"] == [
        {"type": "repository", "name": "alice/model", "actions": ["pull"]}
    ]


def test_failures_for_other_accounts_from_the_workers_address_do_not_stop_the_workers(
    client, site, alice, signing_key, empty_throttle
) -> None:  # type: ignore[no-untyped-def]
    site.TOONBENCH_REGISTRY_WORKER_PASSWORD = "worker secret"
    shared = {"REMOTE_ADDR": "10.0.0.9"}  # the workers' NAT, shared with a guesser
    for attempt in range(30):
        assert ask(client, {**basic(f"user{attempt}", "guess"), **shared}).status_code == 401
    alice_token = Token.objects.create(user=alice).key
    assert ask(client, {**basic("alice", alice_token), **shared}).status_code == 429

    answer = ask(client, {**basic("toonbench-worker", "worker secret"), **shared}, "repository:bob/model:pull")

    assert claims(answer, signing_key)["sub"] == "toonbench-worker"
