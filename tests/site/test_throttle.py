"""Sign-in is throttled: failed passwords per (address, username) and per address, and a request rate per address.

Before, ``/api/auth/token/`` and the login form took unlimited wrong
passwords; then ten wrong passwords from anywhere locked the account for
its owner too. The limits are the site's settings (10 failures per username
from one address, 30 per address, within 15 minutes; 30 sign-in requests a
minute per address); an account with 30 failures from all addresses together
is under attack, and every address that failed for it waits.
"""

from __future__ import annotations

from typing import Iterator

import pytest
from django.core.cache import caches
from django.test import Client

from accounts.throttle import SignInRateThrottle

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
WINDOW_S = 900


@pytest.fixture(autouse=True)
def empty_counters() -> Iterator[None]:
    caches["throttle"].clear()
    yield
    caches["throttle"].clear()


def token(client: Client, username: str, password: str, address: str = "10.0.0.1", **headers: str):  # type: ignore[no-untyped-def]
    return client.post("/api/auth/token/", {"username": username, "password": password}, REMOTE_ADDR=address,
                       **headers)


def login(client: Client, username: str, password: str, address: str = "10.0.0.1"):  # type: ignore[no-untyped-def]
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_ten_wrong_passwords_stop_that_address_for_the_account_but_not_its_owner_elsewhere(client, alice, bob) -> None:  # type: ignore[no-untyped-def]
    for attempt in range(10):
        assert token(client, "alice", f"guess {attempt}").status_code == 400
    refused = token(client, "alice", PASSWORD, "10.0.0.1")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= WINDOW_S
    assert "too many sign-in attempts" in refused.json()["error"] and refused.json()["field"] is None
    assert token(client, "alice", PASSWORD, "192.0.2.7").status_code == 200
    assert token(client, "bob", PASSWORD).status_code == 200


def test_an_account_guessed_from_many_addresses_stops_the_guessers_and_not_its_owner(client, alice) -> None:  # type: ignore[no-untyped-def]
    guessers = [f"10.0.1.{host}" for host in range(3)]
    for address in guessers:
        for attempt in range(10):
            assert token(client, "alice", f"guess {attempt}", address).status_code == 400
    for address in guessers:
        assert token(client, "alice", PASSWORD, address).status_code == 429
    assert token(client, "alice", "one more guess", "10.0.2.1").status_code == 400
    assert token(client, "alice", PASSWORD, "10.0.2.1").status_code == 429  # one guess per fresh address
    assert token(client, "alice", PASSWORD, "192.0.2.7").status_code == 200


def test_thirty_failures_from_one_address_stop_it_whatever_the_username(client, alice, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(SignInRateThrottle.THROTTLE_RATES, "auth", "1000/min")
    for attempt in range(30):
        assert token(client, f"user{attempt}", "guess").status_code == 400
    assert token(client, "alice", PASSWORD).status_code == 429
    forged = token(client, "alice", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.9")
    assert forged.status_code == 429  # a forged X-Forwarded-For is not a new address
    assert token(client, "alice", PASSWORD, address="192.0.2.7").status_code == 200


def test_the_request_rate_per_address_counts_right_passwords_too(client, alice, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(SignInRateThrottle.THROTTLE_RATES, "auth", "5/min")
    for _ in range(5):
        assert token(client, "alice", PASSWORD).status_code == 200
    refused = token(client, "alice", PASSWORD)
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 60


def test_a_successful_sign_in_forgets_the_accounts_failures(client, alice) -> None:  # type: ignore[no-untyped-def]
    for attempt in range(9):
        token(client, "alice", f"guess {attempt}")
    assert token(client, "alice", PASSWORD).status_code == 200
    for attempt in range(9):
        assert token(client, "alice", f"again {attempt}").status_code == 400
    assert token(client, "alice", PASSWORD).status_code == 200


def test_the_login_form_is_throttled_the_same_way(client, alice) -> None:  # type: ignore[no-untyped-def]
    for attempt in range(10):
        assert login(client, "alice", f"guess {attempt}").status_code == 200  # the form again, with its error
    refused = login(client, "alice", PASSWORD)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= WINDOW_S
    assert "too many sign-in attempts from here or for this account; try again in 15 minutes" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    assert login(client, "alice", PASSWORD, address="192.0.2.7").status_code == 302


def test_api_and_login_form_share_the_failure_count(client, alice) -> None:  # type: ignore[no-untyped-def]
    for attempt in range(5):
        token(client, "alice", f"api guess {attempt}")
        login(client, "alice", f"form guess {attempt}")
    assert login(client, "alice", PASSWORD).status_code == 429
    assert token(client, "alice", PASSWORD).status_code == 429


def test_the_admin_login_is_throttled_too(client, django_user_model) -> None:  # type: ignore[no-untyped-def]
    django_user_model.objects.create_superuser("root", "root@example.org", PASSWORD)
    for attempt in range(10):
        page = client.post("/admin/login/", {"username": "root", "password": f"guess {attempt}"}, REMOTE_ADDR="10.0.0.1")
        assert page.status_code == 200 and "_auth_user_id" not in client.session
    refused = client.post("/admin/login/", {"username": "root", "password": PASSWORD}, REMOTE_ADDR="10.0.0.1")
    assert "too many sign-in attempts from here or for this account" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    client.post("/admin/login/", {"username": "root", "password": PASSWORD}, REMOTE_ADDR="192.0.2.7")
    assert "_auth_user_id" in client.session
