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
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from benchmarks.models import Benchmark
from submissions.models import ACTIVE_STATUSES, QUOTA_EXEMPT_STATUSES, Submission
from teams.models import Team

QUOTA_WINDOW = timedelta(hours=24)


class QuotaExceeded(Exception):
    """The team used up today's submissions on this benchmark, or has too many running."""


def submissions_in_window(team: Team, benchmark: Benchmark, now: datetime | None = None) -> int:
    """The team's submissions to ``benchmark`` in the last 24 hours; failed and cancelled ones are free."""
    since = (now or timezone.now()) - QUOTA_WINDOW
    return (
        Submission.objects.filter(team=team, benchmark=benchmark, created__gt=since)
        .exclude(status__in=QUOTA_EXEMPT_STATUSES)
        .count()
    )


def active_submissions(team: Team, benchmark: Benchmark) -> int:
    """The team's submissions to ``benchmark`` that are queued, running or scoring, however old."""
    return Submission.objects.filter(team=team, benchmark=benchmark, status__in=ACTIVE_STATUSES).count()


def max_active_submissions(benchmark: Benchmark) -> int:
    return benchmark.typed_spec.limits.submissions_per_day


def remaining_submissions(team: Team, benchmark: Benchmark, now: datetime | None = None) -> int:
    return max(benchmark.typed_spec.limits.submissions_per_day - submissions_in_window(team, benchmark, now), 0)


def check_quota(team: Team, benchmark: Benchmark, now: datetime | None = None) -> None:
    """Raise ``QuotaExceeded`` when the team may not submit to ``benchmark`` now."""
    who, has = ("you", "have") if team.is_personal else (f"team {team.name!r}", "has")
    if remaining_submissions(team, benchmark, now) <= 0:
        raise QuotaExceeded(
            f"{who} {has} used all {benchmark.typed_spec.limits.submissions_per_day} submissions to {benchmark.slug} "
            "allowed in 24 hours (failed and cancelled ones do not count); try again later"
        )
    if active_submissions(team, benchmark) >= max_active_submissions(benchmark):
        raise QuotaExceeded(
            f"{who} already {has} {max_active_submissions(benchmark)} submissions to {benchmark.slug} queued or "
            "running, the most allowed at once; wait for one to finish"
        )


def reserve_submission(team: Team, benchmark: Benchmark, now: datetime | None = None) -> None:
    """Lock the team's submissions, then check the quota; call inside the transaction that saves the row."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("reserve_submission must run inside the transaction that stores the submission")
    list(Team.objects.select_for_update().filter(pk=team.pk).values_list("pk", flat=True))
    check_quota(team, benchmark, now)
