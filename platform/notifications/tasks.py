"""The Celery task that sends one mail, and queueing it once the caller's transaction commits.

Mails are rendered where they are decided (a job's end, a sweep, a request)
and sent by a worker on the ``maintenance`` queue (``CELERY_TASK_ROUTES``), so no request waits on a
mail server; a server that refuses or times out is tried again with backoff.
"""

from __future__ import annotations

import logging
from functools import partial

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction

logger = logging.getLogger(__name__)


@shared_task(name="notifications.tasks.send_mail", ignore_result=True, autoretry_for=(OSError,), retry_backoff=30,
             max_retries=5)
def send_mail(to: str, subject: str, body: str) -> None:
    """Send one plain-text mail from ``DEFAULT_FROM_EMAIL`` through the configured backend."""
    EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [to]).send()


def queue_mail(to: str, subject: str, body: str) -> None:
    """Queue the mail once the current transaction commits (at once outside one); a rolled-back change mails nobody."""
    transaction.on_commit(partial(_publish, to, subject, body))


def _publish(to: str, subject: str, body: str) -> None:
    try:
        send_mail.delay(to, subject, body)
    except Exception:
        # A broker that is down must not undo what the mail reports; the mail is lost, and logged.
        logger.exception("could not queue a mail to %s (%s)", to, subject)
