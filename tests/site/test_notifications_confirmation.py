"""Address confirmation: signing up mails a signed link; following it confirms the address; a link whose
text was altered, or that names an address the account no longer has, confirms nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from pytest_django.fixtures import Settings

from mail_helpers import SITE_URL, links, path_of, tasks_run_eagerly
from notifications.models import MailSettings

pytestmark = pytest.mark.django_db(transaction=True)
NOT_CONFIRMED = "is not confirmed, so we send it none of the mails below"


@pytest.fixture(autouse=True)
def eager(settings: Settings, mailoutbox: list) -> Iterator[None]:
    settings.TOONBENCH_SITE_URL = SITE_URL
    with tasks_run_eagerly():
        yield


def sign_up(client: Client, username: str = "dora") -> str:
    """Sign up through the page; returns the confirmation link mailed to the new address."""
    form = {"username": username, "email": f"{username}@example.org", "password1": "a long unusual passphrase",
            "password2": "a long unusual passphrase"}
    assert client.post("/accounts/signup/", form).status_code == 302
    (message,) = mail.outbox
    assert message.to == [f"{username}@example.org"]
    assert message.subject == "Confirm your address for ToonBench"
    (link,) = links(message.body)
    assert link.startswith(f"{SITE_URL}/accounts/confirm/")
    return link


def test_the_link_mailed_at_signup_confirms_the_address() -> None:
    client = Client()
    link = sign_up(client)
    assert NOT_CONFIRMED in client.get("/accounts/mail/").content.decode()
    response = client.get(path_of(link))
    assert response.status_code == 302 and response["Location"] == "/accounts/mail/"
    page = client.get("/accounts/mail/").content.decode()
    assert NOT_CONFIRMED not in page and "dora@example.org</strong> <span class=\"badge ok\">confirmed" in page
    assert MailSettings.objects.get(user__username="dora").confirmed_email == "dora@example.org"


def altered(token: str, index: int) -> str:
    """``token`` with the character at ``index`` replaced by another."""
    index %= len(token)
    return token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1:]


@pytest.mark.parametrize("index", [1, -1], ids=["payload", "signature"])
def test_an_altered_link_is_refused_in_one_line_and_confirms_nothing(index: int) -> None:
    client = Client()
    token = path_of(sign_up(client)).rstrip("/").rsplit("/", 1)[1]
    response = client.get(f"/accounts/confirm/{altered(token, index)}/")
    assert response.status_code == 400
    assert "<p class=\"error-reason\">This confirmation link is not valid; use the link exactly as mailed.</p>" in (
        response.content.decode())
    assert not MailSettings.objects.filter(user__username="dora", confirmed_email__gt="").exists()
    assert NOT_CONFIRMED in client.get("/accounts/mail/").content.decode()


def test_a_link_sent_to_an_address_the_account_no_longer_has_is_refused() -> None:
    client = Client()
    link = sign_up(client)
    User.objects.filter(username="dora").update(email="dora@elsewhere.example.org")
    response = client.get(path_of(link))
    assert response.status_code == 400
    assert "This link confirms an address the account no longer has; send a new one." in response.content.decode()
    assert client.post("/accounts/mail/confirm/").status_code == 302
    (_, again) = mail.outbox
    assert again.to == ["dora@elsewhere.example.org"]
    assert client.get(path_of(links(again.body)[0])).status_code == 302
    assert MailSettings.objects.get(user__username="dora").confirmed_email == "dora@elsewhere.example.org"
