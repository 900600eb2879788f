"""Closing an account: sign-in ends, personal data goes, the entries and their results stay.

The account row is kept, because submissions, results and leaderboard rows
point at it: it is renamed ``deleted user #<id>`` (a name signup can never
give, since usernames have no spaces), its personal team takes the same
name, and its address, names, password, API token, team membership, pending
invitations and mail settings are removed; an inactive account can no
longer sign in, and its open sessions end with it.

The former username is not given back: another account could otherwise take
it, and with it the registry namespace ``<username>/`` where the closed
account pushed its images. An inactive account without password holds it,
as a team's name is held once its members have left (``teams.models``).
The account that owns the bundled baselines cannot be closed.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.reserved import BASELINE_OWNER
from benchmarks.models import Benchmark
from notifications.models import MailSettings
from teams.models import Invitation, Team
from teams.services import current_team, leave

DELETED_NAME = "deleted user #{pk}"


class AccountRefused(ValueError):
    """The account cannot be closed; the message says why in one line."""


def deleted_name(user: AbstractBaseUser) -> str:
    return DELETED_NAME.format(pk=user.pk)


@transaction.atomic
def close_account(user: AbstractBaseUser) -> str:
    """Close ``user``'s account as described above; returns the name its entries now show."""
    former = user.get_username()
    if former == BASELINE_OWNER:
        raise AccountRefused(f"the account {BASELINE_OWNER!r} owns the bundled baselines and cannot be deleted")
    shown = deleted_name(user)
    Token.objects.filter(user=user).delete()
    MailSettings.objects.filter(user=user).delete()
    team = current_team(user)
    if team is not None:
        leave(user, team)  # the last member out also withdraws the team's open invitations
    Invitation.objects.filter(invitee=user, state=Invitation.State.PENDING).update(
        state=Invitation.State.DECLINED, answered=timezone.now())
    Team.objects.filter(personal_for=user).update(name=shown)
    # Pages kept for anonymous visitors are rendered again once a benchmark changes (leaderboards.pagecache).
    Benchmark.objects.filter(submissions__owner=user).update(updated=timezone.now())
    user.username, user.email, user.first_name, user.last_name = shown, "", "", ""
    user.is_active = user.is_staff = user.is_superuser = False
    user.set_unusable_password()
    user.save()
    get_user_model().objects.create(username=former, is_active=False, password=make_password(None))
    return shown
