"""Changing the account's e-mail address at /accounts/email/: the password is asked again; the new address is
unconfirmed until the link mailed to it is followed; the old address gets a notice; a link mailed to the old
address confirms nothing any more; refused changes change and mail nothing."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client

from mail_helpers import SITE_URL, confirm_by_mail, links, path_of
from notifications.confirmation import send_confirmation
from notifications.models import MailSettings

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("account_mail")]
PASSWORD = "correct horse battery"
OLD, NEW = "alice@example.org", "alice@elsewhere.example.net"
CONFIRMED_BADGE = '<span class="badge ok">confirmed</span>'
UNCONFIRMED_BADGE = '<span class="badge warn">not confirmed</span>'


def signed_in(user: User) -> Client:
    client = Client()
    assert client.login(username=user.get_username(), password=PASSWORD)
    return client


def confirmation_link(message: mail.EmailMessage) -> str:
    (link,) = [link for link in links(message.body) if "/accounts/confirm/" in link]
    return link


def old_address_link(user: User) -> str:
    """A confirmation link mailed to the account's present address (the outbox is left empty)."""
    assert send_confirmation(user)
    (message,) = mail.outbox
    mail.outbox.clear()
    return confirmation_link(message)


def confirmed_address(user: User) -> str:
    return MailSettings.objects.get(user=user).confirmed_email


def change(client: Client, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/accounts/email/", {"email": email, "password": password})


def test_the_new_address_is_unconfirmed_until_its_link_is_followed_and_the_old_one_is_told(alice: User) -> None:
    confirm_by_mail(alice)
    stale_link = old_address_link(alice)
    client = signed_in(alice)
    account = client.get("/accounts/").content.decode()
    assert 'href="/accounts/email/"' in account and CONFIRMED_BADGE in account

    response = change(client, NEW)

    assert response.status_code == 302 and response["Location"] == "/accounts/"
    alice.refresh_from_db()
    assert alice.email == NEW
    assert confirmed_address(alice) == ""
    account = unescape(client.get("/accounts/").content.decode())
    assert f"Your address is now {NEW}: follow the link we mailed there to confirm it" in account
    assert f"A notice went to {OLD}." in account
    assert UNCONFIRMED_BADGE in account and CONFIRMED_BADGE not in account

    assert sorted(message.to[0] for message in mail.outbox) == sorted([NEW, OLD])
    assert all(len(message.to) == 1 for message in mail.outbox)
    (to_new,) = [message for message in mail.outbox if message.to == [NEW]]
    (to_old,) = [message for message in mail.outbox if message.to == [OLD]]
    assert to_new.subject == "Confirm your address for ToonBench"
    assert f"confirm that {NEW} is your address" in to_new.body
    assert to_old.subject == "Your ToonBench address was changed"
    assert "the e-mail address of your ToonBench account alice was changed" in to_old.body
    assert NEW not in to_old.body
    assert links(to_old.body) == [f"{SITE_URL}/accounts/"]

    refused = Client().get(path_of(stale_link))
    assert refused.status_code == 400
    assert "This link confirms an address the account no longer has; send a new one." in refused.content.decode()
    assert confirmed_address(alice) == ""

    followed = client.get(path_of(confirmation_link(to_new)))
    assert followed.status_code == 302
    assert confirmed_address(alice) == NEW
    assert CONFIRMED_BADGE in client.get("/accounts/").content.decode()


def test_changing_back_does_not_bring_the_old_confirmation_back(alice: User) -> None:
    confirm_by_mail(alice)
    client = signed_in(alice)
    assert change(client, NEW).status_code == 302
    assert change(client, OLD).status_code == 302
    alice.refresh_from_db()
    assert alice.email == OLD and confirmed_address(alice) == ""
    assert UNCONFIRMED_BADGE in client.get("/accounts/").content.decode()
    assert [message.to for message in mail.outbox] == [[NEW], [OLD], [OLD], [NEW]]


@pytest.mark.parametrize(
    ("email", "password", "error"),
    [
        (NEW, "not it", "password: expected your current password"),
        ("BOB@Example.ORG", PASSWORD, "another account already uses the address 'BOB@Example.ORG'; use another"),
        ("Alice@EXAMPLE.org", PASSWORD, "'Alice@EXAMPLE.org' is already your address; enter the new one"),
        ("alice-at-example.org", PASSWORD, "new e-mail address: expected an address such as name@example.org"),
        ("", PASSWORD, "new e-mail address: expected an address such as name@example.org"),
    ],
    ids=["wrong-password", "another-accounts-address", "same-address", "malformed", "empty"],
)
def test_a_refused_change_changes_and_mails_nothing(alice: User, bob: User, email: str, password: str,
                                                    error: str) -> None:
    confirm_by_mail(alice)
    client = signed_in(alice)
    response = change(client, email, password)
    assert response.status_code == 400
    page = unescape(response.content.decode())
    assert f'<p class="error">{error}</p>' in page
    assert len(re.findall(r'<p class="error">', page)) == 1
    alice.refresh_from_db()
    assert alice.email == OLD and confirmed_address(alice) == OLD
    assert mail.outbox == []


def test_signup_refuses_an_address_another_account_uses_in_any_case(alice: User) -> None:
    form = {"username": "dora", "email": "ALICE@example.org", "password1": "a long unusual passphrase",
            "password2": "a long unusual passphrase"}
    response = Client().post("/accounts/signup/", form)
    assert response.status_code == 400
    assert "another account already uses the address 'ALICE@example.org'; use another" in unescape(
        response.content.decode())
    assert not User.objects.filter(username="dora").exists()
    assert mail.outbox == []


def test_anonymous_visitors_are_sent_to_sign_in(alice: User) -> None:
    for response in (Client().get("/accounts/email/"), change(Client(), NEW)):
        assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=/accounts/email/"
    alice.refresh_from_db()
    assert alice.email == OLD and mail.outbox == []


def test_the_form_needs_its_csrf_token(alice: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert change(client, NEW).status_code == 403
    alice.refresh_from_db()
    assert alice.email == OLD
    page = client.get("/accounts/email/").content.decode()
    assert 'id="email-change-form"' in page
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    form = {"email": NEW, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)}
    assert client.post("/accounts/email/", form).status_code == 302
    alice.refresh_from_db()
    assert alice.email == NEW
