"""Which phase a leaderboard shows (``?phase=<slug>``, default the open or latest one), and whether a
visitor may see its rows (``organisers.hosts.phase_leaderboard_visible``)."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import Http404

from benchmarks.models import Benchmark, Phase
from benchmarks.phases import current_phase
from datasets.phases import Visibility
from organisers.hosts import phase_leaderboard_visible


def board_phase(benchmark: Benchmark, requested: str | None, now: datetime) -> Phase | None:
    """The phase named by ``requested``, else the one open at ``now``, else the latest opened, else the first;
    None on a benchmark without phases. An unknown name is a 404 that lists the phases."""
    phases = list(benchmark.phases.order_by("opens"))
    if not phases:
        return None
    if requested:
        for phase in phases:
            if phase.slug == requested:
                return phase
        raise Http404(f"phase: {benchmark.slug!r} has no phase {requested!r} "
                      f"(expected one of {', '.join(phase.slug for phase in phases)})")
    opened = [phase for phase in phases if phase.opens <= now]
    return current_phase(benchmark, now) or (opened[-1] if opened else phases[0])


def hidden_reason(phase: Phase | None, viewer: AbstractBaseUser | AnonymousUser | None, now: datetime) -> str:
    """Why ``viewer`` sees no rows of ``phase``'s leaderboard at ``now``, in one line; '' when they may."""
    if phase is None or phase_leaderboard_visible(phase, viewer or AnonymousUser(), now):
        return ""
    if phase.leaderboard == Visibility.private:
        return f"The {phase.title} leaderboard is private: only the competition's hosts see it."
    return f"The {phase.title} leaderboard is hidden until the phase closes at {phase.closes:%Y-%m-%d %H:%M} UTC."
