"""Mail in site tests: Celery tasks run eagerly (the real task, in the test's process), and addresses are
confirmed by following the link the confirmation mail carries."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from django.contrib.auth.models import AbstractBaseUser
from django.core import mail
from django.test import Client

from notifications.confirmation import send_confirmation
from toonbench_site.celery import app as celery_app

SITE_URL = "https://toonbench.example.org"
LINK = re.compile(r"https?://\S+")


@contextmanager
def tasks_run_eagerly() -> Iterator[None]:
    """Queued tasks (mails, jobs) run at once in this process, as a worker would run them."""
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = False


def links(text: str) -> list[str]:
    return LINK.findall(text)


def path_of(link: str) -> str:
    parts = urlsplit(link)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def mails_to(address: str) -> list[mail.EmailMessage]:
    return [message for message in mail.outbox if message.to == [address]]


def confirm_by_mail(user: AbstractBaseUser) -> None:
    """Mail ``user`` their confirmation link and follow it, as they would."""
    before = len(mail.outbox)
    assert send_confirmation(user)
    (message,) = mail.outbox[before:]
    (link,) = [link for link in links(message.body) if "/accounts/confirm/" in link]
    assert Client().get(path_of(link)).status_code == 302
    del mail.outbox[before:]
