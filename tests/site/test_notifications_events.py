"""Team invitations and phase openings and closes mail the participants concerned, once, unless turned off."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, timedelta

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from benchmarks.models import Benchmark, Phase
from mail_helpers import SITE_URL, confirm_by_mail, tasks_run_eagerly
from maintenance.tasks import sweep_stale_jobs
from notifications.models import MailSettings
from organisers.models import Competition, RegistrationMode
from organisers.registration import register
from teams.services import team_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def eager(site: Settings, mailoutbox: list) -> Iterator[None]:
    site.TOONBENCH_SITE_URL = SITE_URL
    with tasks_run_eagerly():
        yield


@pytest.fixture
def carol(django_user_model: type[User]) -> User:
    return django_user_model.objects.create_user("carol", "carol@example.org", "correct horse battery")


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def turn_off(user: User, kind: str) -> None:
    MailSettings.objects.filter(user=user).update(**{kind: False})


def test_an_invitation_made_on_the_team_page_mails_the_invitee_unless_they_turned_it_off(
    alice: User, bob: User, carol: User
) -> None:
    confirm_by_mail(bob)
    confirm_by_mail(carol)
    turn_off(carol, "team_invitation")
    client = signed_in(alice)
    assert client.post("/team/create/", {"name": "toonsquad"}).status_code == 302
    assert client.post("/team/invite/", {"username": "bob"}).status_code == 302
    assert client.post("/team/invite/", {"username": "carol"}).status_code == 302
    (message,) = mail.outbox
    assert message.to == ["bob@example.org"]
    assert message.subject == "alice invites you to team toonsquad"
    assert f"{SITE_URL}/team/\n" in message.body


@pytest.fixture
def competition(toonnet: Benchmark, bob: User, carol: User) -> Benchmark:
    """toonnet with open registration; bob and carol registered (their teams of one), alice not."""
    Competition.objects.create(benchmark=toonnet, registration=RegistrationMode.OPEN)
    for user in (bob, carol):
        register(user, team_of(user), toonnet, accept_terms=True)
    return toonnet


def phase(benchmark: Benchmark, slug: str, opened_h_ago: float, closes_in_h: float) -> Phase:
    now = timezone.now()
    return Phase.objects.create(benchmark=benchmark, slug=slug, title=f"Phase {slug}", split="test",
                                opens=now - timedelta(hours=opened_h_ago), closes=now + timedelta(hours=closes_in_h))


def test_the_maintenance_pass_announces_an_opening_and_a_coming_close_once_to_registered_participants(
    competition: Benchmark, alice: User, bob: User, carol: User
) -> None:
    for user in (alice, bob, carol):
        confirm_by_mail(user)
    turn_off(carol, "phase_closing")
    final = phase(competition, "final", opened_h_ago=1, closes_in_h=5)
    sweep_stale_jobs()
    sent = sorted((message.to[0], message.subject) for message in mail.outbox)
    closes = final.closes.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    assert sent == [
        ("bob@example.org", f'ToonNet cartoon object classification: phase "Phase final" closes {closes} UTC'),
        ("bob@example.org", 'ToonNet cartoon object classification: phase "Phase final" is open'),
        ("carol@example.org", 'ToonNet cartoon object classification: phase "Phase final" is open'),
    ]
    assert all(f"{SITE_URL}/benchmarks/toonnet/\n" in message.body for message in mail.outbox)
    sweep_stale_jobs()
    assert len(mail.outbox) == 3


def test_a_close_moved_by_the_hosts_is_announced_again_and_a_phase_open_for_days_is_not_announced_late(
    competition: Benchmark, bob: User
) -> None:
    confirm_by_mail(bob)
    final = phase(competition, "final", opened_h_ago=72, closes_in_h=48)
    sweep_stale_jobs()
    assert mail.outbox == []
    final.closes = timezone.now() + timedelta(hours=2)
    final.save()
    sweep_stale_jobs()
    final.closes = timezone.now() + timedelta(hours=3)
    final.save()
    sweep_stale_jobs()
    assert [message.subject.split(" closes ")[0] for message in mail.outbox] == [
        'ToonNet cartoon object classification: phase "Phase final"'] * 2
