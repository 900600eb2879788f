"""Password reset by mail, end to end, and password change: Django's views, the site's pages, the send task."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client

from accounts.throttle import SignInRateThrottle
from mail_helpers import SITE_URL, links, path_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("account_mail")]
OLD, NEW = "correct horse battery", "a brand new passphrase 42"


def signs_in(username: str, password: str) -> bool:
    response = Client().post("/accounts/login/", {"username": username, "password": password})
    return response.status_code == 302


def test_a_forgotten_password_is_reset_through_the_mailed_link(alice: User) -> None:
    client = Client()
    login_page = client.get("/accounts/login/").content.decode()
    assert 'href="/accounts/password/reset/"' in login_page
    response = client.post("/accounts/password/reset/", {"email": "alice@example.org"})
    assert response.status_code == 302 and response["Location"] == "/accounts/password/reset/sent/"
    (message,) = mail.outbox
    assert message.to == ["alice@example.org"] and message.subject == "Reset your ToonBench password"
    (link,) = links(message.body)
    assert link.startswith(f"{SITE_URL}/accounts/password/reset/")
    form_page = client.get(path_of(link))
    assert form_page.status_code == 302 and form_page["Location"].endswith("/set-password/")
    assert 'id="password-set-form"' in client.get(form_page["Location"]).content.decode()
    done = client.post(form_page["Location"], {"new_password1": NEW, "new_password2": NEW})
    assert done.status_code == 302 and done["Location"] == "/accounts/password/reset/done/"
    assert signs_in("alice", NEW) and not signs_in("alice", OLD)
    used_again = Client().get(path_of(link))
    assert used_again.status_code == 200 and 'id="invalid-link"' in used_again.content.decode()


def test_reset_requests_count_against_the_sign_in_rate(alice: User, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(SignInRateThrottle.THROTTLE_RATES, "auth", "2/min")
    client = Client()
    answers = [client.post("/accounts/password/reset/", {"email": "alice@example.org"}) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [302, 302, 429]
    assert "Too many sign-in attempts from here or for this account" in answers[2].content.decode()
    assert len(mail.outbox) == 2


def test_an_unknown_address_gets_the_same_answer_and_no_mail(alice: User) -> None:
    response = Client().post("/accounts/password/reset/", {"email": "nobody@example.org"})
    assert response.status_code == 302 and response["Location"] == "/accounts/password/reset/sent/"
    assert mail.outbox == []


def test_a_signed_in_user_changes_their_password_with_the_old_one(alice: User) -> None:
    client = Client()
    assert client.login(username="alice", password=OLD)
    account = client.get("/accounts/").content.decode()
    assert 'href="/accounts/password/change/"' in account
    wrong = client.post("/accounts/password/change/",
                        {"old_password": "not it", "new_password1": NEW, "new_password2": NEW})
    assert wrong.status_code == 200 and "Your old password was entered incorrectly" in wrong.content.decode()
    changed = client.post("/accounts/password/change/",
                          {"old_password": OLD, "new_password1": NEW, "new_password2": NEW})
    assert changed.status_code == 302 and changed["Location"] == "/accounts/password/change/done/"
    assert client.get("/accounts/password/change/done/").status_code == 200  # still signed in
    assert signs_in("alice", NEW) and not signs_in("alice", OLD)
