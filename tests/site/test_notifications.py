"""Submission mails: a job that finishes or fails mails its owner, through the real job path and the real
send task, with the reason and a link; baselines, unconfirmed addresses and turned-off kinds mail nobody;
the SMTP backend delivers to a real SMTP server (aiosmtpd) started by the test."""

from __future__ import annotations

import email
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from email.message import Message
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.contrib.auth.models import User
from django.core import mail
from django.core.files import File
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from benchmarks.models import Benchmark
from datasets.build import BuiltBenchmark
from jobs import evaluation
from maintenance.tasks import sweep_stale_jobs
from mail_helpers import SITE_URL, confirm_by_mail, links, path_of, tasks_run_eagerly
from notifications.confirmation import send_confirmation
from submissions.models import Status, Submission
from toonnet_outputs import predictions_zip, seeded_scores

pytestmark = pytest.mark.django_db(transaction=True)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def eager() -> Iterator[None]:
    with tasks_run_eagerly():
        yield


@pytest.fixture
def mail_site(site: Settings, mailoutbox: list) -> Settings:
    site.TOONBENCH_SITE_URL = SITE_URL
    return site


def predictions(owner: User, benchmark: Benchmark, archive: Path, **fields: object) -> Submission:
    """A predictions submission stored as the site stores one."""
    submission = Submission(owner=owner, benchmark=benchmark, protocol=benchmark.current_version(),
                            kind="predictions", method_name="mailed method", **fields)
    with open(archive, "rb") as handle:
        submission.artefact.save("predictions.zip", File(handle), save=False)
    submission.save()
    return submission


def good(owner: User, toonnet: Benchmark, built: BuiltBenchmark, tmp_path: Path, **fields: object) -> Submission:
    return predictions(owner, toonnet, predictions_zip(tmp_path / "good.zip", seeded_scores(built)), **fields)


def wrong_shape(owner: User, toonnet: Benchmark, built: BuiltBenchmark, tmp_path: Path) -> Submission:
    return predictions(owner, toonnet, predictions_zip(tmp_path / "bad.zip", seeded_scores(built)[:, :5]))


def test_a_finished_job_mails_its_owner_a_link_to_the_submission(
    mail_site: Settings, toonnet: Benchmark, alice: User, toonnet_built: BuiltBenchmark, tmp_path: Path
) -> None:
    confirm_by_mail(alice)
    submission = good(alice, toonnet, toonnet_built, tmp_path)
    assert evaluation.evaluate(submission.pk) == Status.FINISHED
    (message,) = mail.outbox
    assert message.to == ["alice@example.org"]
    assert message.subject == f"Submission #{submission.pk} finished: mailed method on toonnet"
    assert f"{SITE_URL}/submissions/{submission.pk}/\n" in message.body
    assert f"{SITE_URL}/accounts/mail/" in message.body  # where to turn it off


def test_a_failed_job_mails_the_reason_it_recorded_and_the_link(
    mail_site: Settings, toonnet: Benchmark, alice: User, toonnet_built: BuiltBenchmark, tmp_path: Path
) -> None:
    confirm_by_mail(alice)
    submission = wrong_shape(alice, toonnet, toonnet_built, tmp_path)
    assert evaluation.evaluate(submission.pk) == Status.FAILED
    submission.refresh_from_db()
    assert submission.status_reason.startswith("/output/scores.npy: ")
    (message,) = mail.outbox
    assert message.subject == f"Submission #{submission.pk} failed: mailed method on toonnet"
    assert f"\n{submission.status_reason}\n" in message.body
    assert f"{SITE_URL}/submissions/{submission.pk}/\n" in message.body


def test_a_job_that_ends_twice_mails_once(
    mail_site: Settings, toonnet: Benchmark, alice: User, toonnet_built: BuiltBenchmark, tmp_path: Path
) -> None:
    confirm_by_mail(alice)
    submission = wrong_shape(alice, toonnet, toonnet_built, tmp_path)
    assert evaluation.evaluate(submission.pk) == Status.FAILED
    evaluation.DjangoJobStore().set_status(str(submission.pk), Status.FAILED, reason="a late second ending")
    assert len(mail.outbox) == 1


def test_baselines_unconfirmed_addresses_and_cancelled_jobs_mail_nobody(
    mail_site: Settings, toonnet: Benchmark, alice: User, bob: User, toonnet_built: BuiltBenchmark, tmp_path: Path
) -> None:
    confirm_by_mail(alice)
    baseline = good(alice, toonnet, toonnet_built, tmp_path, is_baseline=True)
    assert evaluation.evaluate(baseline.pk) == Status.FINISHED
    unconfirmed = good(bob, toonnet, toonnet_built, tmp_path)
    assert evaluation.evaluate(unconfirmed.pk) == Status.FINISHED
    cancelled = good(alice, toonnet, toonnet_built, tmp_path)
    evaluation.DjangoJobStore().set_status(str(cancelled.pk), Status.CANCELLED)
    assert mail.outbox == []
    page = Client()
    page.force_login(bob)
    assert "is not confirmed, so we send it none of the mails below" in page.get("/accounts/mail/").content.decode()


def test_a_kind_turned_off_on_the_settings_page_is_not_mailed_and_the_others_are(
    mail_site: Settings, toonnet: Benchmark, alice: User, toonnet_built: BuiltBenchmark, tmp_path: Path
) -> None:
    confirm_by_mail(alice)
    client = Client()
    client.force_login(alice)
    kept_on = {"submission_failed": "on", "phase_opening": "on", "phase_closing": "on", "team_invitation": "on"}
    assert client.post("/accounts/mail/", kept_on).status_code == 302
    finished = good(alice, toonnet, toonnet_built, tmp_path)
    assert evaluation.evaluate(finished.pk) == Status.FINISHED
    assert mail.outbox == []
    failed = wrong_shape(alice, toonnet, toonnet_built, tmp_path)
    assert evaluation.evaluate(failed.pk) == Status.FAILED
    assert [message.subject for message in mail.outbox] == [f"Submission #{failed.pk} failed: mailed method on toonnet"]
    page = client.get("/accounts/mail/").content.decode()
    switches = dict(re.findall(r'<input type="checkbox" name="(\w+)"([^>]*)>', page))
    assert {name: "checked" in rest for name, rest in switches.items()} == {
        "submission_finished": False, "submission_failed": True, "phase_opening": True, "phase_closing": True,
        "team_invitation": True}


def test_a_job_the_sweep_gives_up_on_mails_its_owner_the_reason(
    mail_site: Settings, toonnet: Benchmark, alice: User, toonnet_built: BuiltBenchmark, tmp_path: Path
) -> None:
    confirm_by_mail(alice)
    stuck = good(alice, toonnet, toonnet_built, tmp_path)
    Submission.objects.filter(pk=stuck.pk).update(status=Status.RUNNING, attempts=mail_site.TOONBENCH_MAX_ATTEMPTS,
                                                  heartbeat_at=timezone.now() - timedelta(hours=1))
    sweep_stale_jobs()
    stuck.refresh_from_db()
    assert stuck.status == Status.FAILED and "stopped responding" in stuck.status_reason
    (message,) = mail.outbox
    assert message.subject == f"Submission #{stuck.pk} failed: mailed method on toonnet"
    assert f"\n{stuck.status_reason}\n" in message.body


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_the_smtp_backend_delivers_a_failure_mail_to_a_real_smtp_server(
    site: Settings, smtp_server: tuple[Inbox, int], toonnet: Benchmark, alice: User, toonnet_built: BuiltBenchmark,
    tmp_path: Path,
) -> None:
    inbox, port = smtp_server
    site.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    site.EMAIL_HOST, site.EMAIL_PORT, site.EMAIL_USE_TLS = "127.0.0.1", port, False
    site.DEFAULT_FROM_EMAIL = "ToonBench <noreply@toonbench.example.org>"
    site.TOONBENCH_SITE_URL = SITE_URL
    assert send_confirmation(alice)
    (confirmation,) = inbox.envelopes
    assert confirmation.rcpt_tos == ["alice@example.org"]
    (link,) = [link for link in links(body_of(confirmation)) if "/accounts/confirm/" in link]
    assert Client().get(path_of(link)).status_code == 302
    submission = wrong_shape(alice, toonnet, toonnet_built, tmp_path)
    assert evaluation.evaluate(submission.pk) == Status.FAILED
    submission.refresh_from_db()
    envelope = inbox.envelopes[1]
    assert envelope.mail_from == "noreply@toonbench.example.org" and envelope.rcpt_tos == ["alice@example.org"]
    message: Message = email.message_from_bytes(envelope.content)
    assert message["From"] == "ToonBench <noreply@toonbench.example.org>"
    assert message["To"] == "alice@example.org"
    assert message["Subject"] == f"Submission #{submission.pk} failed: mailed method on toonnet"
    body = body_of(envelope)
    assert submission.status_reason in body and f"{SITE_URL}/submissions/{submission.pk}/" in body


def body_of(envelope: object) -> str:
    return email.message_from_bytes(envelope.content).get_payload(decode=True).decode()  # type: ignore[attr-defined]


def test_the_email_settings_come_from_the_environment() -> None:
    env = {**os.environ, "TOONBENCH_EMAIL_BACKEND": "smtp", "TOONBENCH_EMAIL_HOST": "mail.example.org",
           "TOONBENCH_EMAIL_PORT": "2525", "TOONBENCH_EMAIL_USER": "toonbench", "TOONBENCH_EMAIL_USE_TLS": "1",
           "TOONBENCH_EMAIL_FROM": "ToonBench <bench@example.org>", "TOONBENCH_SITE_URL": "https://bench.example.org/",
           "DJANGO_SETTINGS_MODULE": "toonbench_site.settings", "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'platform'}"}
    script = ("from django.conf import settings as s; print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, "
              "s.EMAIL_HOST_USER, s.EMAIL_USE_TLS, s.DEFAULT_FROM_EMAIL, s.TOONBENCH_SITE_URL, sep='|')")
    shown = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert shown.stdout.strip().split("|") == [
        "django.core.mail.backends.smtp.EmailBackend", "mail.example.org", "2525", "toonbench", "True",
        "ToonBench <bench@example.org>", "https://bench.example.org"]
    embedded = {key: value for key, value in env.items() if not key.startswith("TOONBENCH_EMAIL")}
    shown = subprocess.run([sys.executable, "-c", script], env=embedded, capture_output=True, text=True, check=True)
    assert shown.stdout.split("|")[0] == "django.core.mail.backends.console.EmailBackend"
