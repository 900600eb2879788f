"""The daily submission quota (``limits.submissions_per_day`` in the benchmark spec)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from benchmarks.models import Benchmark
from submissions.models import QUOTA_EXEMPT_STATUSES, Submission

QUOTA_WINDOW = timedelta(hours=24)


class QuotaExceeded(Exception):
    """The participant used up today's submissions on this benchmark."""


def submissions_in_window(owner: AbstractBaseUser, benchmark: Benchmark, now: datetime | None = None) -> int:
    """The owner's submissions to ``benchmark`` in the last 24 hours; failed and cancelled ones are free."""
    since = (now or timezone.now()) - QUOTA_WINDOW
    return (
        Submission.objects.filter(owner=owner, benchmark=benchmark, created__gt=since)
        .exclude(status__in=QUOTA_EXEMPT_STATUSES)
        .count()
    )


def remaining_submissions(owner: AbstractBaseUser, benchmark: Benchmark, now: datetime | None = None) -> int:
    return max(benchmark.submissions_per_day - submissions_in_window(owner, benchmark, now), 0)


def check_quota(owner: AbstractBaseUser, benchmark: Benchmark, now: datetime | None = None) -> None:
    if remaining_submissions(owner, benchmark, now) <= 0:
        raise QuotaExceeded(
            f"you have used all {benchmark.submissions_per_day} submissions to {benchmark.slug} allowed in "
            "24 hours (failed and cancelled ones do not count); try again later"
        )
