"""Team pages: your team (create, invite, answer invitations, leave), the team list and a team's page.

Every change is a POST that calls ``teams.services``; a refusal shows its
one line on your team page (400, or 403 when you may not act) and changes
nothing. A team's page shows its members (``team_page_context``) and its
entries; it is served by the ``leaderboards`` app, which knows the entries,
and its ``entries`` block (the ``teams/_entries.html`` partial) lists the
``entries`` the context holds.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from teams import services
from teams.models import Invitation, Team
from teams.services import NotAllowed, TeamRefused

DONE = {"accept": "You joined {team}.", "decline": "You declined the invitation to {team}.",
        "withdraw": "The invitation to {invitee} is withdrawn."}


@login_required
@require_GET
def my_team(request: HttpRequest) -> HttpResponse:
    return render_my_team(request)


def render_my_team(request: HttpRequest, status: int = 200) -> HttpResponse:
    team = services.current_team(request.user)
    return render(request, "teams/mine.html", {
        "team": team,
        "members": services.members(team) if team else [],
        "sent": services.pending_from(team) if team else [],
        "received": services.pending_for(request.user),
    }, status=status)


def refused(request: HttpRequest, exc: TeamRefused) -> HttpResponse:
    messages.error(request, str(exc))
    return render_my_team(request, status=403 if isinstance(exc, NotAllowed) else 400)


@login_required
@require_POST
def create_team(request: HttpRequest) -> HttpResponse:
    try:
        team = services.create_team(request.user, request.POST.get("name", "").strip())
    except TeamRefused as exc:
        return refused(request, exc)
    messages.success(request, f"Team {team.name} created; invite others by their username.")
    return redirect("my_team")


@login_required
@require_POST
def invite(request: HttpRequest) -> HttpResponse:
    team = services.current_team(request.user)
    if team is None:
        return refused(request, TeamRefused("you are in no team; create one before inviting"))
    username = request.POST.get("username", "").strip()
    try:
        services.invite(request.user, team, username)
    except TeamRefused as exc:
        return refused(request, exc)
    messages.success(request, f"{username} is invited to {team.name}.")
    return redirect("my_team")


@login_required
@require_POST
def answer(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    invitation = get_object_or_404(Invitation.objects.select_related("team", "invitee"), pk=pk)
    try:
        services.ANSWERS[action](request.user, invitation)
    except TeamRefused as exc:
        return refused(request, exc)
    messages.success(request, DONE[action].format(team=invitation.team.name,
                                                  invitee=invitation.invitee.get_username()))
    return redirect("my_team")


@login_required
@require_POST
def leave(request: HttpRequest) -> HttpResponse:
    team = services.current_team(request.user)
    if team is None:
        return refused(request, TeamRefused("you are in no team; there is no team to leave"))
    try:
        services.leave(request.user, team)
    except TeamRefused as exc:
        return refused(request, exc)
    messages.success(request, f"You left {team.name}; you now enter as {request.user.get_username()}.")
    return redirect("my_team")


@require_GET
def team_list(request: HttpRequest) -> HttpResponse:
    teams = Team.objects.filter(personal_for__isnull=True).annotate(size=Count("memberships"))
    return render(request, "teams/list.html", {"teams": teams})


def team_page_context(name: str) -> dict[str, object]:
    """What the page of the team ``name`` shows about the team itself; a 404 when no team has that name."""
    team = services.find_team(name)
    if team is None:
        raise Http404(f"no team named {name!r}")
    return {"team": team, "members": services.members(team)}
