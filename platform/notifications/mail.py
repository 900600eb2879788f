"""Composing notifications: who gets which mail, and what it says.

Each kind of mail is one plain-text template,
``notifications/email/<name>.txt``, whose first line is the subject and the
rest the body. A notification goes to a participant only when their account
is active, its address is confirmed and they have not turned that kind off
(``MailSettings``). Mail about an account itself (address confirmation,
the notice that its address changed, password reset) is not a notification:
it goes whatever the switches say.

Submissions are handed in by the apps that end a job; this app sits below
them (tests/evaluator/test_import_arrows.py) and reads only their fields.
Invitations are mailed when they are stored (``invitation_saved``, connected
in ``notifications.apps``).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.template.loader import render_to_string
from django.urls import reverse

from evaluator.status import JobStatus
from notifications.models import Kind, MailSettings
from notifications.tasks import queue_mail
from teams.models import Invitation

logger = logging.getLogger(__name__)
SUBMISSION_ENDINGS = {
    JobStatus.FINISHED.value: Kind.SUBMISSION_FINISHED,
    JobStatus.FAILED.value: Kind.SUBMISSION_FAILED,
}


def site_link(path: str) -> str:
    """An absolute link to a page of the site, for mails (``TOONBENCH_SITE_URL``)."""
    return f"{settings.TOONBENCH_SITE_URL}{path}"


def mail_settings(user: AbstractBaseUser) -> MailSettings:
    """The user's mail settings; the defaults (every kind on, nothing confirmed) when they never saved any."""
    found = MailSettings.objects.filter(user_id=user.pk).first()
    return found if found is not None else MailSettings(user=user)


def render_mail(name: str, context: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) of the template ``notifications/email/<name>.txt``."""
    text = render_to_string(f"notifications/email/{name}.txt", {**context, "site_url": settings.TOONBENCH_SITE_URL})
    subject, _, body = text.strip().partition("\n")
    return subject.strip(), body.strip() + "\n"


def notify(user: AbstractBaseUser, kind: str, context: dict[str, Any]) -> bool:
    """Queue the ``kind`` mail to ``user`` unless they cannot or do not want it; True when queued.

    A mail that cannot be composed is logged and dropped: it must never undo
    the job's end, the invitation or the sweep that it reports.
    """
    try:
        wanted = mail_settings(user)
        if not (user.is_active and wanted.is_confirmed() and wanted.wants(kind)):
            return False
        subject, body = render_mail(kind, {**context, "user": user, "kind_label": Kind(kind).label})
    except Exception:
        logger.exception("could not compose the %s mail to user %s", kind, user.pk)
        return False
    queue_mail(user.email, subject, body)
    return True


def submission_ended(submission: Any) -> bool:
    """Tell a submission's owner that its job finished or failed (with the reason it recorded).

    ``submission`` is a ``submissions.models.Submission`` whose status just
    became final; other statuses (cancelled included: its owner did that)
    and bundled baselines mail nobody.
    """
    kind = SUBMISSION_ENDINGS.get(submission.status)
    if kind is None or submission.is_baseline:
        return False
    link = site_link(reverse("submission", args=[submission.pk]))
    return notify(submission.owner, kind, {"submission": submission, "link": link})


def submissions_ended(submissions: Any) -> int:
    """``submission_ended`` for each of ``submissions``; how many mails were queued."""
    return sum(submission_ended(submission) for submission in submissions)


def invitation_saved(sender: type[Invitation], instance: Invitation, created: bool, **_: object) -> None:
    """``post_save`` receiver: tell the invitee of a new invitation who invited them to which team."""
    if created and instance.state == Invitation.State.PENDING:
        link = site_link(reverse("my_team"))
        notify(instance.invitee, Kind.TEAM_INVITATION, {"invitation": instance, "link": link})
