"""Announcing phases to the participants registered for their benchmark: it opened, it is about to close.

The periodic maintenance pass calls ``announce_phases``. A phase's opening is
announced while it is open and opened at most ``TOONBENCH_PHASE_NOTICE_H``
hours ago (a phase found open long after its start, e.g. on the first pass
after an upgrade, is not announced late); its close is announced once it is
at most that many hours away. Each announcement is a ``PhaseNotice`` row
created before any mail is queued, so however many passes run, each mail goes
once; a close date that hosts move is a new moment, announced again.

Registered participants are the members of every team whose registration
for the benchmark is approved (``organisers``); a benchmark that takes no
registration announces to nobody.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from benchmarks.models import Benchmark, Phase
from notifications.mail import notify, site_link
from notifications.models import Kind, PhaseNotice
from organisers.models import Registration, RegistrationState


def registered_participants(benchmark: Benchmark) -> QuerySet[AbstractBaseUser]:
    """Active members of the teams approved for ``benchmark`` (a personal team's member is its participant)."""
    teams = Registration.objects.filter(benchmark=benchmark, state=RegistrationState.APPROVED).values("team")
    members = Q(personal_team__in=teams) | Q(membership__team__in=teams)
    return get_user_model().objects.filter(members, is_active=True).distinct().order_by("pk")


def announce_phases(now: datetime | None = None) -> int:
    """Queue the opening and closing mails that are due; how many mails were queued."""
    now = now or timezone.now()
    window = timedelta(hours=settings.TOONBENCH_PHASE_NOTICE_H)
    queued = 0
    for phase in Phase.objects.filter(opens__lte=now, closes__gt=now).select_related("benchmark"):
        if now - phase.opens <= window:
            queued += announce(phase, Kind.PHASE_OPENING, phase.opens)
        if phase.closes - now <= window:
            queued += announce(phase, Kind.PHASE_CLOSING, phase.closes)
    return queued


def announce(phase: Phase, kind: str, moment: datetime) -> int:
    """Mail ``kind`` for ``phase`` at ``moment`` to its participants, unless it was announced already."""
    _, created = PhaseNotice.objects.get_or_create(phase=phase, kind=kind, moment=moment)
    if not created:
        return 0
    link = site_link(reverse("benchmark", args=[phase.benchmark.slug]))
    context = {"phase": phase, "benchmark": phase.benchmark, "link": link}
    return sum(notify(user, kind, context) for user in registered_participants(phase.benchmark))
