"""Pages: register a team for a benchmark (accepting its terms); the hosts' registrations and co-organisers.

Every change is a POST that calls ``organisers.registration`` or
``organisers.hosts``; a refusal shows its one line on the same page (400, or
403 when the visitor may not act) and changes nothing.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from benchmarks.models import Benchmark
from organisers import hosts
from organisers.hosts import OrganiserRefused, is_host, is_owner
from organisers.registration import competition_of, decide, register
from teams.services import team_of


@login_required
def registration_page(request: HttpRequest, slug: str) -> HttpResponse:
    """GET: the terms and the team's registration; POST: register (``accept_terms`` ticked)."""
    benchmark = get_object_or_404(Benchmark, slug=slug)
    team = team_of(request.user)
    status = 200
    if request.method == "POST":
        try:
            register(request.user, team, benchmark, request.POST.get("accept_terms") == "on")
            messages.success(request, f"Team {team.name} is registered for {benchmark.slug}.")
            return redirect("register", slug=benchmark.slug)
        except OrganiserRefused as exc:
            messages.error(request, str(exc))
            status = 400
    return render(request, "organisers/register.html", {
        "benchmark": benchmark, "team": team, "competition": competition_of(benchmark),
        "registration": benchmark.registrations.filter(team=team).first(),
    }, status=status)


@login_required
def host_page(request: HttpRequest, slug: str, status: int = 200) -> HttpResponse:
    """The hosts' page of a benchmark: its registrations to decide and its co-organisers."""
    benchmark = get_object_or_404(Benchmark, slug=slug)
    if not is_host(request.user, benchmark):
        raise PermissionDenied(f"only the hosts of {benchmark.slug} may see its registrations")
    return render(request, "organisers/hosts.html", {
        "benchmark": benchmark, "competition": competition_of(benchmark),
        "registrations": benchmark.registrations.select_related("team"),
        "hosts": benchmark.hosts.select_related("user"), "is_owner": is_owner(request.user, benchmark),
    }, status=status)


@login_required
@require_POST
def decide_registration(request: HttpRequest, slug: str, pk: int, decision: str) -> HttpResponse:
    benchmark = get_object_or_404(Benchmark, slug=slug)
    registration = get_object_or_404(benchmark.registrations.select_related("team"), pk=pk)
    try:
        decide(request.user, registration, approve=decision == "approve")
    except OrganiserRefused as exc:
        raise PermissionDenied(str(exc)) from exc
    messages.success(request, f"The registration of {registration.team.name} is {registration.state}.")
    return redirect("host_desk", slug=benchmark.slug)


@login_required
@require_POST
def change_host(request: HttpRequest, slug: str, action: str) -> HttpResponse:
    """Add (``action`` "add") or remove a co-organiser named by ``username``; the owner only."""
    benchmark = get_object_or_404(Benchmark, slug=slug)
    if not is_owner(request.user, benchmark):
        raise PermissionDenied(f"only the owner of {benchmark.slug} may add or remove co-organisers")
    username = request.POST.get("username", "").strip()
    user = get_user_model().objects.filter(username=username).first()
    try:
        if user is None:
            raise OrganiserRefused(f"username: no user is named {username!r}")
        change = hosts.add_co_organiser if action == "add" else hosts.remove_co_organiser
        change(request.user, benchmark, user)
    except OrganiserRefused as exc:
        messages.error(request, str(exc))
        return host_page(request, slug, status=400)
    return redirect("host_desk", slug=benchmark.slug)
