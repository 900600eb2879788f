"""Submission quotas: the daily limit (``limits.submissions_per_day``) and a cap on active jobs.

Both are checked by ``reserve_submission`` inside the transaction that
stores the submission, after a lock that serialises one owner's
submissions: a row lock on the owner's user row on PostgreSQL
(``SELECT ... FOR UPDATE``), and on SQLite the database write lock that
every transaction takes at ``BEGIN`` (``transaction_mode: IMMEDIATE`` in
the settings). So parallel posts cannot all pass a count that none of them
has added to yet.

Failed and cancelled submissions cost no daily quota (the participant got
nothing for them), so the number of jobs one owner may have queued or
running at once is capped as well, at the daily limit: failing jobs cannot
pile up in the queue.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from benchmarks.models import Benchmark
from submissions.models import ACTIVE_STATUSES, QUOTA_EXEMPT_STATUSES, Submission

QUOTA_WINDOW = timedelta(hours=24)


class QuotaExceeded(Exception):
    """The participant used up today's submissions on this benchmark, or has too many running."""


def submissions_in_window(owner: AbstractBaseUser, benchmark: Benchmark, now: datetime | None = None) -> int:
    """The owner's submissions to ``benchmark`` in the last 24 hours; failed and cancelled ones are free."""
    since = (now or timezone.now()) - QUOTA_WINDOW
    return (
        Submission.objects.filter(owner=owner, benchmark=benchmark, created__gt=since)
        .exclude(status__in=QUOTA_EXEMPT_STATUSES)
        .count()
    )


def active_submissions(owner: AbstractBaseUser, benchmark: Benchmark) -> int:
    """The owner's submissions to ``benchmark`` that are queued, running or scoring, however old."""
    return Submission.objects.filter(owner=owner, benchmark=benchmark, status__in=ACTIVE_STATUSES).count()


def max_active_submissions(benchmark: Benchmark) -> int:
    return benchmark.typed_spec.limits.submissions_per_day


def remaining_submissions(owner: AbstractBaseUser, benchmark: Benchmark, now: datetime | None = None) -> int:
    return max(benchmark.typed_spec.limits.submissions_per_day - submissions_in_window(owner, benchmark, now), 0)


def check_quota(owner: AbstractBaseUser, benchmark: Benchmark, now: datetime | None = None) -> None:
    """Raise ``QuotaExceeded`` when the owner may not submit to ``benchmark`` now."""
    if remaining_submissions(owner, benchmark, now) <= 0:
        raise QuotaExceeded(
            f"you have used all {benchmark.typed_spec.limits.submissions_per_day} submissions to {benchmark.slug} allowed in "
            "24 hours (failed and cancelled ones do not count); try again later"
        )
    if active_submissions(owner, benchmark) >= max_active_submissions(benchmark):
        raise QuotaExceeded(
            f"you already have {max_active_submissions(benchmark)} submissions to {benchmark.slug} queued or "
            "running, the most allowed at once; wait for one to finish"
        )


def reserve_submission(owner: AbstractBaseUser, benchmark: Benchmark, now: datetime | None = None) -> None:
    """Lock the owner's submissions, then check the quota; call inside the transaction that saves the row."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("reserve_submission must run inside the transaction that stores the submission")
    list(get_user_model().objects.select_for_update().filter(pk=owner.pk).values_list("pk", flat=True))
    check_quota(owner, benchmark, now)
