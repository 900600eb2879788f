"""Entering a benchmark: registering a team, accepting the terms, and the hosts' decision.

``Competition.registration`` says how a team enters: ``none`` (anyone
submits), ``open`` (registering approves at once) or ``approval`` (a host
approves each team). Where the benchmark has terms, registering accepts their
current version; a change of the terms asks every team to accept them again.
``may_submit`` is what the intake asks before storing a submission.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from benchmarks.models import Benchmark
from organisers.hosts import AnyUser, OrganiserRefused, is_host
from organisers.models import Competition, Registration, RegistrationMode, RegistrationState
from teams.models import Team


def competition_of(benchmark: Benchmark) -> Competition:
    """``benchmark``'s host settings (no registration and no terms until the hosts set them)."""
    return Competition.objects.filter(benchmark=benchmark).first() or Competition(benchmark=benchmark)


def may_submit(user: AnyUser, team: Team, benchmark: Benchmark) -> str | None:
    """None when ``team`` may submit to ``benchmark``, else the one-line reason why not."""
    competition = competition_of(benchmark)
    if competition.registration == RegistrationMode.NONE or is_host(user, benchmark):
        return None
    registration = Registration.objects.filter(benchmark=benchmark, team=team).first()
    if registration is None:
        return f"team {team.name} is not registered for {benchmark.slug}; register for it first"
    if registration.state == RegistrationState.PENDING:
        return f"the registration of team {team.name} for {benchmark.slug} awaits a host's approval"
    if registration.state == RegistrationState.REFUSED:
        return f"the hosts of {benchmark.slug} refused the registration of team {team.name}"
    if competition.terms and registration.terms_version < competition.terms_version:
        return (f"the terms of {benchmark.slug} changed (version {competition.terms_version}); "
                "register again to accept them")
    return None


def register(user: AbstractBaseUser, team: Team, benchmark: Benchmark, accept_terms: bool) -> Registration:
    """Register ``team`` for ``benchmark`` (again, after the terms changed), accepting the current terms."""
    competition = competition_of(benchmark)
    _require(competition.registration != RegistrationMode.NONE,
             f"{benchmark.slug} takes no registration; submit directly")
    _require(accept_terms or not competition.terms,
             f"accept_terms: the terms of {benchmark.slug} (version {competition.terms_version}) must be accepted")
    registration, created = Registration.objects.get_or_create(
        benchmark=benchmark, team=team, defaults={"requested_by": user})
    _require(created or registration.state != RegistrationState.REFUSED,
             f"the hosts of {benchmark.slug} refused the registration of team {team.name}")
    registration.terms_version = competition.terms_version if competition.terms else 0
    if created:
        open_entry = competition.registration == RegistrationMode.OPEN
        registration.state = RegistrationState.APPROVED if open_entry else RegistrationState.PENDING
        registration.decided = timezone.now() if open_entry else None
    registration.save()
    return registration


def decide(actor: AnyUser, registration: Registration, approve: bool) -> Registration:
    """A host approves or refuses ``registration``."""
    benchmark = registration.benchmark
    _require(is_host(actor, benchmark), f"only the hosts of {benchmark.slug} may approve or refuse registrations")
    registration.state = RegistrationState.APPROVED if approve else RegistrationState.REFUSED
    registration.decided = timezone.now()
    registration.decided_by = actor  # type: ignore[assignment]
    registration.save(update_fields=["state", "decided", "decided_by"])
    return registration


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise OrganiserRefused(message)
