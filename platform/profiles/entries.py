"""The entries a profile lists: a participant's public, finished submissions, and their headline number.

Private submissions are never listed, and a number is shown only where the
result disclosure rules let this visitor see it (``results.disclosure``): a
phase whose leaderboard is hidden, private or a ladder lists the entry
without its number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from results.disclosure import visible_metric_names
from submissions.models import Status, Submission


@dataclass(frozen=True)
class Entry:
    submission: Submission
    metric: str  # the metric its benchmark ranks by
    value: float | None  # None where undefined or hidden from this visitor
    hidden: bool  # the phase keeps the number from this visitor


def public_submissions(owner: AbstractBaseUser) -> QuerySet[Submission]:
    return (Submission.objects.live()
            .filter(owner=owner, is_public=True, status=Status.FINISHED)
            .select_related("benchmark", "phase", "team", "result")
            .defer("log_tail")
            .order_by("-created"))


def entry(viewer: Any, submission: Submission) -> Entry:
    metric = submission.benchmark.rank_by
    hidden = metric not in visible_metric_names(viewer, submission)
    result = getattr(submission, "result", None)
    value = None if hidden or result is None else (result.metrics or {}).get(metric)
    return Entry(submission=submission, metric=metric, value=value, hidden=hidden)
