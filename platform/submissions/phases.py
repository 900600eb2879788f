"""Which competition phase a new submission enters, and whether that phase takes it now.

A benchmark without phases takes submissions with no phase. On one with
phases, the participant names the phase (the form's and the API's ``phase``
field) or gets the one open now; ``entered_phase`` refuses, in one line, an
unknown phase, one that is not open, and a kind the phase's part does not
take (predictions on a part whose inputs are hidden). A bundled baseline is
scored wherever it is sent: it is never refused for dates.
"""

from __future__ import annotations

from datetime import datetime

from benchmarks.models import Benchmark, Phase, PhaseState
from benchmarks.phases import current_phase


class PhaseClosed(ValueError):
    """The phase cannot take this submission; the message says why in one line."""


def entered_phase(
    benchmark: Benchmark, kind: str, requested: Phase | str | None, now: datetime, is_baseline: bool = False
) -> Phase | None:
    """The phase a submission of ``kind`` enters at ``now``: ``requested`` (a phase or its slug), else the open one."""
    phases = list(benchmark.phases.all())
    if not phases:
        if requested:
            raise PhaseClosed(f"phase: benchmark {benchmark.slug!r} has no phases; leave phase empty")
        return None
    phase = named_phase(benchmark, phases, requested) if requested else current_phase(benchmark, now)
    if phase is None:
        if is_baseline:
            return None
        raise PhaseClosed(f"phase: no phase of {benchmark.slug!r} is open now; {next_opening(phases, now)}")
    if not is_baseline:
        check_open(phase, kind, now)
    return phase


def named_phase(benchmark: Benchmark, phases: list[Phase], requested: Phase | str) -> Phase:
    if isinstance(requested, Phase):
        if requested.benchmark_id != benchmark.pk:
            raise PhaseClosed(f"phase: {requested} is not a phase of {benchmark.slug!r}")
        return requested
    for phase in phases:
        if phase.slug == requested:
            return phase
    raise PhaseClosed(f"phase: {benchmark.slug!r} has no phase {requested!r} "
                      f"(expected one of {', '.join(phase.slug for phase in phases)})")


def check_open(phase: Phase, kind: str, now: datetime) -> None:
    """Refuse a phase that is not open at ``now``, or one whose part does not take ``kind``."""
    state = phase.state(now)
    if state == PhaseState.UPCOMING:
        raise PhaseClosed(f"phase: {phase.slug!r} opens at {phase.opens.isoformat()}; it takes no submissions yet")
    if state == PhaseState.CLOSED:
        raise PhaseClosed(f"phase: {phase.slug!r} closed at {phase.closes.isoformat()}; it takes no more submissions")
    if not phase.accepts(kind):
        raise PhaseClosed(f"kind: phase {phase.slug!r} scores a part whose inputs are hidden; it takes a container "
                          f"(image or tarball), not {kind}")


def next_opening(phases: list[Phase], now: datetime) -> str:
    upcoming = sorted((phase for phase in phases if phase.opens > now), key=lambda phase: phase.opens)
    if not upcoming:
        return "the competition is over"
    return f"the next, {upcoming[0].slug!r}, opens at {upcoming[0].opens.isoformat()}"
