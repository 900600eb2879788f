"""The Ladder (Blum and Hardt, ICML 2015): a leaderboard that shows only real improvements.

On a phase whose leaderboard is ``ladder``, a team's shown score changes
only when a new result beats the shown one by more than the phase's
``ladder_step``, and is then the new value rounded to a multiple of the
step. Small gains, and the noise a participant could fit by resubmitting,
are not shown: the bound this gives is in docs/security.md. The shown score
is stored per team and phase (``LadderScore``) when a result is stored;
public, non-baseline submissions enter it.
"""

from __future__ import annotations

import math
from decimal import Decimal

from django.db import transaction

from datasets.phases import Visibility
from leaderboards.models import LadderScore
from results.models import MetricValue, Result
from submissions.models import Submission
from teams.models import Team


def step_decimals(step: float) -> int:
    """How many decimals the step has: the precision a shown score is printed with."""
    exponent = Decimal(repr(step)).normalize().as_tuple().exponent
    return max(0, -int(exponent))


def rounded(value: float, step: float) -> float:
    """``value`` to the nearest multiple of ``step``, printed at the step's precision."""
    return round(round(value / step) * step, step_decimals(step))


def climbs(shown: float | None, value: float, step: float, higher_is_better: bool) -> bool:
    """Whether ``value`` beats the shown score by more than ``step`` (any finite value beats none)."""
    if shown is None:
        return True
    gain = value - shown if higher_is_better else shown - value
    return gain > step


def record_result(sender: object, result_id: int, **_: object) -> None:
    """Update the team's shown score after a result is stored (``results.store.result_stored``)."""
    result = Result.objects.select_related("submission__phase__benchmark").filter(pk=result_id).first()
    if result is None:
        return
    submission = result.submission
    phase = submission.phase
    if phase is None or phase.leaderboard != Visibility.ladder or submission.is_baseline or not submission.is_public:
        return
    benchmark = phase.benchmark
    value = MetricValue.objects.filter(submission=submission, name=benchmark.rank_by).values_list(
        "value", flat=True).first()
    if value is None or not math.isfinite(value):
        return
    climb(submission, value, benchmark.higher_is_better(benchmark.rank_by))


def climb(submission: Submission, value: float, higher_is_better: bool) -> LadderScore | None:
    """Raise the team's shown score to ``value`` if it climbs a step; the team's row lock orders parallel results."""
    phase = submission.phase
    with transaction.atomic():
        list(Team.objects.select_for_update().filter(pk=submission.team_id).values_list("pk", flat=True))
        current = LadderScore.objects.filter(phase=phase, team_id=submission.team_id).first()
        if not climbs(current.score if current else None, value, phase.ladder_step, higher_is_better):
            return current
        shown, _ = LadderScore.objects.update_or_create(
            phase=phase, team_id=submission.team_id,
            defaults={"submission": submission, "score": rounded(value, phase.ladder_step)},
        )
        return shown
