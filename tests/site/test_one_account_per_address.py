"""One account per e-mail address, held by the database (accounts migration 0002) as well as by the forms.

Two sign-ups (or a sign-up and an address change) can both pass the forms'
check before either is saved; the later one must then be refused on its form,
with nothing made, changed or mailed. The race is played through the real
views: the competing account is created right after the form's own check.
The admin refuses a shared address the same way, and a database that already
holds one stops its migration with the accounts named.
"""

from __future__ import annotations

from collections.abc import Iterator
from html import unescape

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from accounts.forms import ChangeAddressForm, SignupForm

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("account_mail")]
PASSWORD = "correct horse battery"
BEFORE = ("accounts", "0001_baseline_owner")


def taken(address: str) -> str:
    return f"another account already uses the address {address!r}; use another"


def racer_takes_the_address_after(form_class: type, monkeypatch: pytest.MonkeyPatch) -> None:
    """The form's address check passes, then another request's account commits with the address in capitals."""
    checked = form_class.clean_email

    def check_then_lose(form) -> str:  # type: ignore[no-untyped-def]
        address = checked(form)
        User.objects.create_user("racer", address.upper(), PASSWORD)
        return address

    monkeypatch.setattr(form_class, "clean_email", check_then_lose)


def test_the_database_refuses_a_second_account_with_an_address_in_any_case(alice: User) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("dora", "Alice@EXAMPLE.org", PASSWORD)
    User.objects.create_user("erin", "", PASSWORD)
    User.objects.create_user("fred", "", PASSWORD)  # accounts without an address are many
    assert not User.objects.filter(username="dora").exists()
    assert set(User.objects.filter(email="").values_list("username", flat=True)) >= {"erin", "fred"}


def test_a_signup_that_loses_the_race_for_its_address_is_refused_on_its_form(monkeypatch: pytest.MonkeyPatch) -> None:
    racer_takes_the_address_after(SignupForm, monkeypatch)
    form = {"username": "dora", "email": "dora@example.org", "password1": "a long unusual passphrase",
            "password2": "a long unusual passphrase"}

    response = Client().post("/accounts/signup/", form)

    assert response.status_code == 400
    assert f'<p class="error">{taken("dora@example.org")}</p>' in unescape(response.content.decode())
    assert not User.objects.filter(username="dora").exists()
    assert User.objects.get(email__iexact="dora@example.org").username == "racer"
    assert mail.outbox == []


def test_an_address_change_that_loses_the_race_changes_and_mails_nothing(alice: User,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    racer_takes_the_address_after(ChangeAddressForm, monkeypatch)
    client = Client()
    client.force_login(alice)

    response = client.post("/accounts/email/", {"email": "new@example.net", "password": PASSWORD})

    assert response.status_code == 400
    assert f'<p class="error">{taken("new@example.net")}</p>' in unescape(response.content.decode())
    alice.refresh_from_db()
    assert alice.email == "alice@example.org"
    assert mail.outbox == []


def admin_change(client: Client, user: User, email: str):  # type: ignore[no-untyped-def]
    joined = user.date_joined
    return client.post(f"/admin/auth/user/{user.pk}/change/", {
        "username": user.username, "email": email, "is_active": "on",
        "date_joined_0": joined.strftime("%Y-%m-%d"), "date_joined_1": joined.strftime("%H:%M:%S"),
    })


def test_the_admin_refuses_an_address_another_account_uses(alice: User, bob: User) -> None:
    staff = Client()
    staff.force_login(User.objects.create_superuser("root", "", PASSWORD))

    refused = admin_change(staff, bob, "ALICE@example.org")

    assert refused.status_code == 200
    assert taken("ALICE@example.org") in unescape(refused.content.decode())
    bob.refresh_from_db()
    assert bob.email == "bob@example.org"

    assert admin_change(staff, bob, "robert@example.org").status_code == 302
    assert admin_change(staff, alice, "").status_code == 302
    assert {user.username: user.email for user in User.objects.filter(username__in=["alice", "bob"])} == {
        "alice": "", "bob": "robert@example.org"}


@pytest.fixture
def before_the_index() -> Iterator[type]:
    """The database as it was before migration 0002, with its User model; migrated forward again afterwards."""
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate([leaf for leaf in leaves if leaf[0] != "accounts"] + [BEFORE])
    yield MigrationExecutor(connection).loader.project_state(BEFORE).apps.get_model("auth", "User")
    MigrationExecutor(connection).migrate(leaves)


def test_a_database_where_accounts_share_an_address_stops_its_migration_naming_them(before_the_index: type) -> None:
    users = before_the_index.objects
    users.create(username="ann", email="shared@example.org")
    users.create(username="ben", email="Shared@Example.org")
    users.create(username="cat", email="cat@example.org")
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()

    with pytest.raises(RuntimeError) as refused:
        MigrationExecutor(connection).migrate(leaves)

    assert str(refused.value) == ("accounts share an e-mail address (shared@example.org: ann, ben); give all but one "
                                  "of each another address in the admin, then migrate again")
    users.filter(username="ben").update(email="ben@example.org")
    MigrationExecutor(connection).migrate(leaves)
    with pytest.raises(IntegrityError), transaction.atomic():
        users.create(username="dan", email="CAT@example.org")
