"""Each participant's mail settings, and the phase moments already announced.

``MailSettings`` holds one switch per kind of mail (all on until the
participant turns one off) and the address they confirmed: notifications go
only to a confirmed address that is still the account's. A participant
without a row has every kind on and no confirmed address.

``PhaseNotice`` records that a phase's opening (or its coming close) was
announced for one date; its unique constraint lets one sweep win, so each
mail goes once. A host who moves the close date makes a new moment, and a new
reminder.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from benchmarks.models import Phase


class Kind(models.TextChoices):
    """The kinds of mail a participant can turn off; each value names a ``MailSettings`` switch."""

    SUBMISSION_FINISHED = "submission_finished", "a submission of mine finished"
    SUBMISSION_FAILED = "submission_failed", "a submission of mine failed (with the reason)"
    PHASE_OPENING = "phase_opening", "a phase opens on a benchmark my team is registered for"
    PHASE_CLOSING = "phase_closing", "a phase my team is registered for is about to close"
    TEAM_INVITATION = "team_invitation", "someone invites me to their team"


class MailSettings(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mail_settings")
    submission_finished = models.BooleanField(default=True, verbose_name=Kind.SUBMISSION_FINISHED.label)
    submission_failed = models.BooleanField(default=True, verbose_name=Kind.SUBMISSION_FAILED.label)
    phase_opening = models.BooleanField(default=True, verbose_name=Kind.PHASE_OPENING.label)
    phase_closing = models.BooleanField(default=True, verbose_name=Kind.PHASE_CLOSING.label)
    team_invitation = models.BooleanField(default=True, verbose_name=Kind.TEAM_INVITATION.label)
    confirmed_email = models.EmailField(blank=True, help_text="The address the participant confirmed (empty: none)")
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "mail settings"

    def __str__(self) -> str:
        return f"mail settings of {self.user}"

    def wants(self, kind: str) -> bool:
        return bool(getattr(self, Kind(kind).value))

    def is_confirmed(self) -> bool:
        """Whether the account's current address is the one its owner confirmed."""
        email = self.user.email
        return bool(email) and self.confirmed_email.casefold() == email.casefold()


PHASE_KINDS = (Kind.PHASE_OPENING, Kind.PHASE_CLOSING)


class PhaseNotice(models.Model):
    phase = models.ForeignKey(Phase, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=20, choices=[(kind.value, kind.label) for kind in PHASE_KINDS])
    moment = models.DateTimeField(help_text="The opening or closing date announced")
    sent = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent"]
        constraints = [models.UniqueConstraint(fields=["phase", "kind", "moment"], name="one_notice_per_phase_moment")]

    def __str__(self) -> str:
        return f"{self.kind} of {self.phase} at {self.moment.isoformat()}"
