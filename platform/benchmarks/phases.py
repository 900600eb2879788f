"""Competition phases on the site: which phase is open, and the hosts' actions on a phase.

A phase's settings are the hosts' once ``sync_benchmarks`` has created it
(``benchmarks.models.Phase``). The hosts change them with four actions, from
the admin or ``POST /api/benchmarks/<slug>/phases/<phase>/``:

- ``open``: the phase opens now (it was upcoming);
- ``close``: the phase closes now (it was open);
- ``extend``: the phase closes at a new date, after it opens and after now;
- ``reveal``: a ``hidden_until_close`` leaderboard is shown before the close.

An action that cannot apply is refused with one line (``PhaseRefused``) and
changes nothing. Who the hosts are, and who sees a phase's leaderboard,
is ``organisers.hosts``'s to say.
"""

from __future__ import annotations

import copy
from datetime import datetime

from benchmarks.models import Benchmark, Phase, PhaseState
from datasets.phases import Visibility, as_utc

ACTIONS = ("open", "close", "extend", "reveal")


class PhaseRefused(ValueError):
    """A host action that cannot apply; the message says why in one line."""


def current_phase(benchmark: Benchmark, now: datetime) -> Phase | None:
    """The phase open at ``now``; None between phases and for a benchmark without phases."""
    return benchmark.phases.filter(opens__lte=now, closes__gt=now).order_by("opens").first()


def apply_action(phase: Phase, action: str, now: datetime, closes: datetime | None = None) -> Phase:
    """Run a host action on ``phase`` at ``now`` and save it; ``PhaseRefused`` leaves it unchanged."""
    if action not in ACTIONS:
        raise PhaseRefused(f"action: expected one of {', '.join(ACTIONS)}, got {action!r}")
    state = phase.state(now)
    if action == "open":
        _require(state == PhaseState.UPCOMING, f"phase {phase.slug!r} is {state}; only an upcoming phase can open")
        changes = {"opens": now}
    elif action == "close":
        _require(state == PhaseState.OPEN, f"phase {phase.slug!r} is {state}; only an open phase can close")
        changes = {"closes": now}
    elif action == "extend":
        _require(closes is not None, "closes: extend needs the new close date (UTC)")
        new_closes = as_utc(closes)
        _require(new_closes > phase.opens and new_closes > now, f"closes: {new_closes.isoformat()} must be after "
                 f"the phase opens ({phase.opens.isoformat()}) and after now")
        changes = {"closes": new_closes}
    else:
        _require(phase.leaderboard == Visibility.hidden_until_close, f"phase {phase.slug!r} has a "
                 f"{phase.leaderboard} leaderboard; only a hidden_until_close one is revealed")
        _require(phase.revealed_at is None, f"phase {phase.slug!r} was already revealed at {phase.revealed_at}")
        changes = {"revealed_at": now}
    return _saved(phase, changes)


def _saved(phase: Phase, changes: dict[str, datetime]) -> Phase:
    """``phase`` with ``changes`` saved, unless its dates would then overlap another phase's."""
    candidate = copy.copy(phase)
    for name, value in changes.items():
        setattr(candidate, name, value)
    overlap = candidate.overlap()
    _require(not overlap, overlap)
    for name, value in changes.items():
        setattr(phase, name, value)
    phase.save(update_fields=[*changes, "updated"])
    return phase


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise PhaseRefused(message)
