"""Teams, their members and the invitations that add members.

Every participant enters as a team: the team they have joined, or else
their *personal team*, a team of one named after their username that is
created the first time something needs it (``teams.services.team_of``) and
that nobody can join, invite to or leave. A user belongs to at most one
non-personal team at a time (``Membership.user`` is unique); their personal
team stays theirs throughout, so whatever already points at it keeps its
meaning when they join or leave a team.

A team row is never deleted by members leaving: submissions and registry
images may refer to it, and its name (a registry namespace) must not pass
to anyone else.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower


class Team(models.Model):
    name = models.CharField(max_length=150, help_text="a registry namespace; for a personal team, the username")
    personal_for = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="personal_team",
        help_text="set on a personal team: the one participant it stands for",
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), condition=Q(personal_for__isnull=True),
                                    name="teams_team_name_unique_ci"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_personal(self) -> bool:
        return self.personal_for_id is not None


class Membership(models.Model):
    """A user's place in a (non-personal) team; removed when they leave."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    joined = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["joined", "pk"]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"


class Invitation(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "pending"
        ACCEPTED = "accepted", "accepted"
        DECLINED = "declined", "declined"
        WITHDRAWN = "withdrawn", "withdrawn"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    invitee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_invitations")
    inviter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    created = models.DateTimeField(auto_now_add=True)
    answered = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["team", "invitee"], condition=Q(state="pending"),
                                    name="teams_one_pending_invitation"),
        ]

    def __str__(self) -> str:
        return f"{self.invitee} to {self.team} ({self.state})"
