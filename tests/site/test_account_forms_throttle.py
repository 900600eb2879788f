"""The account forms that ask for the password again (change the address, delete the account) count wrong
passwords as failed sign-ins; once throttled they answer 429 before checking anything, so a guess made then
neither works nor tells whether it was right."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.cache import caches
from django.test import Client
from pytest_django.fixtures import Settings

from mail_helpers import tasks_run_eagerly

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "correct horse battery"
WRONG_PASSWORD = "password: expected your current password"
FORMS = {
    "/accounts/email/": {"email": "alice@elsewhere.example.net"},
    "/accounts/delete/": {},
}


@pytest.fixture(autouse=True)
def two_failures_allowed(settings: Settings, mailoutbox: list) -> Iterator[None]:
    settings.TOONBENCH_AUTH_FAILURES_PER_USERNAME = 2
    caches["throttle"].clear()
    with tasks_run_eagerly():
        yield


@pytest.mark.parametrize("url", list(FORMS))
def test_wrong_passwords_are_throttled_and_a_throttled_guess_learns_nothing(alice: User, url: str) -> None:
    client = Client()
    assert client.login(username="alice", password=PASSWORD)
    wrong = [client.post(url, {**FORMS[url], "password": "not it"}) for _ in range(2)]
    assert [response.status_code for response in wrong] == [400, 400]
    assert all(WRONG_PASSWORD in response.content.decode() for response in wrong)

    for password in ("not it", PASSWORD):
        refused = client.post(url, {**FORMS[url], "password": password})
        assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 900
        page = refused.content.decode()
        assert "Too many sign-in attempts from here or for this account" in page and WRONG_PASSWORD not in page

    alice.refresh_from_db()
    assert (alice.email, alice.is_active) == ("alice@example.org", True)
    assert mail.outbox == []
