"""Submission quotas, counted per team: the daily limit (``limits.submissions_per_day``) and a cap on active jobs.

Every participant submits as a team (``teams.services.team_of``: the team
they joined, else their personal team of one), and a submission keeps the
team it was made for. So a second account in the same team shares the
team's quota instead of doubling it.

Both limits are checked by ``reserve_submission`` inside the transaction
that stores the submission, after a lock that serialises one team's
submissions: a row lock on the team's row on PostgreSQL
(``SELECT ... FOR UPDATE``), and on SQLite the database write lock that
every transaction takes at ``BEGIN`` (``transaction_mode: IMMEDIATE`` in
the settings). So parallel posts, by one member or several, cannot all pass
a count that none of them has added to yet.

Failed and cancelled submissions cost no daily quota (the team got nothing
for them), so the number of jobs one team may have queued or running at
once is capped as well, at the daily limit: failing jobs cannot pile up in
the queue.

In a competition phase both counts are the phase's: the daily limit is the
phase's ``submissions_per_day`` (else the spec's), counted over the phase's
submissions only, and ``submissions_total`` caps the team's submissions over
the whole phase. The same lock covers them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from benchmarks.models import Benchmark, Phase
from submissions.models import ACTIVE_STATUSES, QUOTA_EXEMPT_STATUSES, Submission
from teams.models import Team

QUOTA_WINDOW = timedelta(hours=24)


class QuotaExceeded(Exception):
    """The team used up today's submissions on this benchmark, or has too many running."""


def counted(team: Team, benchmark: Benchmark, phase: Phase | None = None) -> QuerySet[Submission]:
    """The team's submissions that use up quota: on ``benchmark``, in ``phase`` when given; failed and
    cancelled ones are free."""
    found = Submission.objects.filter(team=team, benchmark=benchmark)
    if phase is not None:
        found = found.filter(phase=phase)
    return found.exclude(status__in=QUOTA_EXEMPT_STATUSES)


def submissions_in_window(
    team: Team, benchmark: Benchmark, now: datetime | None = None, phase: Phase | None = None
) -> int:
    """The team's submissions to ``benchmark`` (in ``phase``) in the last 24 hours."""
    since = (now or timezone.now()) - QUOTA_WINDOW
    return counted(team, benchmark, phase).filter(created__gt=since).count()


def active_submissions(team: Team, benchmark: Benchmark) -> int:
    """The team's submissions to ``benchmark`` that are queued, running or scoring, however old."""
    return Submission.objects.filter(team=team, benchmark=benchmark, status__in=ACTIVE_STATUSES).count()


def max_active_submissions(benchmark: Benchmark) -> int:
    return benchmark.typed_spec.limits.submissions_per_day


def daily_limit(benchmark: Benchmark, phase: Phase | None = None) -> int:
    """Submissions a team may make in 24 hours: the phase's limit, else the spec's."""
    if phase is not None and phase.submissions_per_day is not None:
        return phase.submissions_per_day
    return benchmark.typed_spec.limits.submissions_per_day


def remaining_submissions(
    team: Team, benchmark: Benchmark, now: datetime | None = None, phase: Phase | None = None
) -> int:
    return max(daily_limit(benchmark, phase) - submissions_in_window(team, benchmark, now, phase), 0)


def check_quota(team: Team, benchmark: Benchmark, now: datetime | None = None, phase: Phase | None = None) -> None:
    """Raise ``QuotaExceeded`` when the team may not submit to ``benchmark`` (in ``phase``) now."""
    who, has = ("you", "have") if team.is_personal else (f"team {team.name!r}", "has")
    where = f"{benchmark.slug}" if phase is None else f"phase {phase.slug!r} of {benchmark.slug}"
    if phase is not None and phase.submissions_total is not None:
        if counted(team, benchmark, phase).count() >= phase.submissions_total:
            raise QuotaExceeded(
                f"{who} {has} used all {phase.submissions_total} submissions allowed in {where} "
                "(failed and cancelled ones do not count)"
            )
    if remaining_submissions(team, benchmark, now, phase) <= 0:
        raise QuotaExceeded(
            f"{who} {has} used all {daily_limit(benchmark, phase)} submissions to {where} "
            "allowed in 24 hours (failed and cancelled ones do not count); try again later"
        )
    if active_submissions(team, benchmark) >= max_active_submissions(benchmark):
        raise QuotaExceeded(
            f"{who} already {has} {max_active_submissions(benchmark)} submissions to {benchmark.slug} queued or "
            "running, the most allowed at once; wait for one to finish"
        )


def reserve_submission(
    team: Team, benchmark: Benchmark, now: datetime | None = None, phase: Phase | None = None
) -> None:
    """Lock the team's submissions, then check the quota; call inside the transaction that saves the row."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("reserve_submission must run inside the transaction that stores the submission")
    list(Team.objects.select_for_update().filter(pk=team.pk).values_list("pk", flat=True))
    check_quota(team, benchmark, now, phase)
