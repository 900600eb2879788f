"""Creating teams, inviting, answering invitations and leaving: one transaction each.

Pages and the API call these and nothing else, so both refuse the same
things with the same words. Each refusal is a ``TeamRefused`` whose message
is one line saying what was expected; ``NotAllowed`` marks those where the
caller is not the one who may act. Who belongs where is defined in
``teams.models``: a user's team is the one they joined, else their personal
team (``team_of``).
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from teams.models import Invitation, Membership, Team
from teams.names import NameRefused, check_team_name

State = Invitation.State


class TeamRefused(Exception):
    """The change cannot be made; the message says what was expected."""


class NotAllowed(TeamRefused):
    """The caller is not someone who may make this change."""


def current_team(user: AbstractBaseUser) -> Team | None:
    """The non-personal team ``user`` belongs to now, if any."""
    return Team.objects.filter(memberships__user=user).first()


def team_of(user: AbstractBaseUser) -> Team:
    """The team ``user`` enters as: their team, else their personal team (created on first need)."""
    team = current_team(user)
    if team is not None:
        return team
    personal, _ = Team.objects.get_or_create(personal_for=user, defaults={"name": user.get_username()})
    return personal


def find_team(name: str) -> Team | None:
    """The team an address names: a team (whatever the case), else a participant's personal team."""
    team = Team.objects.filter(personal_for__isnull=True, name__iexact=name).first()
    return team or Team.objects.filter(personal_for__isnull=False, name=name).first()


def is_member(user: AbstractBaseUser, team: Team) -> bool:
    if team.is_personal:
        return team.personal_for_id == user.pk
    return Membership.objects.filter(team=team, user_id=user.pk).exists()


def members(team: Team) -> QuerySet[AbstractBaseUser]:
    """The team's current members, longest-standing first."""
    users = get_user_model().objects
    if team.is_personal:
        return users.filter(pk=team.personal_for_id)
    return users.filter(membership__team=team).order_by("membership__joined", "pk")


def pending_for(user: AbstractBaseUser) -> QuerySet[Invitation]:
    """Invitations waiting for ``user``'s answer."""
    return Invitation.objects.filter(invitee_id=user.pk, state=State.PENDING).select_related("team", "inviter")


def pending_from(team: Team) -> QuerySet[Invitation]:
    """Invitations the team has sent that are still open."""
    return team.invitations.filter(state=State.PENDING).select_related("invitee", "inviter")


@transaction.atomic
def create_team(user: AbstractBaseUser, name: str) -> Team:
    """A new team named ``name`` with ``user`` as its first member."""
    _refuse_if_in_a_team(user, "creating another")
    try:
        check_team_name(name)
        with transaction.atomic():
            team = Team.objects.create(name=name)
    except NameRefused as exc:
        raise TeamRefused(str(exc)) from None
    except IntegrityError:
        raise TeamRefused(f"team name {name!r} is taken by a user or a team; choose another") from None
    _join(user, team)
    return team


@transaction.atomic
def invite(inviter: AbstractBaseUser, team: Team, username: str) -> Invitation:
    """Invite the user named ``username`` to ``team``; only its members may."""
    if team.is_personal:
        raise TeamRefused(f"{team.name!r} is a personal team and takes no members; create a team to invite others")
    if not is_member(inviter, team):
        raise NotAllowed(f"only members of team {team.name!r} may invite to it")
    invitee = get_user_model().objects.filter(username=username, is_active=True).first()
    if invitee is None:
        raise TeamRefused(f"no user named {username!r}; expected the exact username of an account")
    if is_member(invitee, team):
        raise TeamRefused(f"{username!r} is already a member of team {team.name!r}")
    try:
        with transaction.atomic():
            return Invitation.objects.create(team=team, invitee=invitee, inviter=inviter)
    except IntegrityError:
        raise TeamRefused(f"{username!r} already has a pending invitation to team {team.name!r}") from None


@transaction.atomic
def accept(user: AbstractBaseUser, invitation: Invitation) -> Team:
    """Join the inviting team; only the invitee may, and only while in no other team."""
    _refuse_unless_invitee(user, invitation, "accept")
    _refuse_if_in_a_team(user, f"joining {invitation.team.name!r}")
    _answer(invitation, State.ACCEPTED)
    _join(user, invitation.team)
    return invitation.team


@transaction.atomic
def decline(user: AbstractBaseUser, invitation: Invitation) -> Invitation:
    _refuse_unless_invitee(user, invitation, "decline")
    return _answer(invitation, State.DECLINED)


@transaction.atomic
def withdraw(user: AbstractBaseUser, invitation: Invitation) -> Invitation:
    """Take back an open invitation; any member of the inviting team may."""
    if not is_member(user, invitation.team):
        raise NotAllowed(f"only members of team {invitation.team.name!r} may withdraw its invitations")
    return _answer(invitation, State.WITHDRAWN)


@transaction.atomic
def leave(user: AbstractBaseUser, team: Team) -> None:
    """Leave ``team``; the last member out also withdraws its open invitations, and the team row stays."""
    if team.is_personal:
        raise TeamRefused(f"{team.name!r} is a personal team; there is no team to leave")
    if not Membership.objects.filter(team=team, user_id=user.pk).delete()[0]:
        raise TeamRefused(f"you are not a member of team {team.name!r}")
    if not team.memberships.exists():
        team.invitations.filter(state=State.PENDING).update(state=State.WITHDRAWN, answered=timezone.now())


# What an invitation's answer buttons and endpoints call, by the word in their address.
ANSWERS: dict[str, Callable[[AbstractBaseUser, Invitation], object]] = {
    "accept": accept, "decline": decline, "withdraw": withdraw,
}


def _refuse_if_in_a_team(user: AbstractBaseUser, doing: str) -> None:
    team = current_team(user)
    if team is not None:
        raise TeamRefused(f"you are in team {team.name!r}; leave it before {doing}")


def _refuse_unless_invitee(user: AbstractBaseUser, invitation: Invitation, verb: str) -> None:
    if invitation.invitee_id != user.pk:
        raise NotAllowed(f"only {invitation.invitee.get_username()!r} may {verb} this invitation")


def _answer(invitation: Invitation, state: str) -> Invitation:
    """Move a pending invitation to ``state``, unless another request answered it first."""
    now = timezone.now()
    if not Invitation.objects.filter(pk=invitation.pk, state=State.PENDING).update(state=state, answered=now):
        invitation.refresh_from_db(fields=["state"])
        raise TeamRefused(f"this invitation is already {invitation.state}; expected a pending one")
    invitation.state, invitation.answered = state, now
    return invitation


def _join(user: AbstractBaseUser, team: Team) -> None:
    try:
        with transaction.atomic():
            Membership.objects.create(team=team, user=user)
    except IntegrityError:
        raise TeamRefused("you joined another team meanwhile; leave it first") from None
