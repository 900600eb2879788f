"""Leaderboard queries: finished submissions ranked by one metric, with its interval.

Ranking reads the indexed ``MetricValue`` rows, so sorting thousands of
submissions by any metric is one query. Direction (higher or lower is
better) comes from the benchmark spec.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import F, FilteredRelation, Q, QuerySet, Window
from django.db.models.functions import Rank

from benchmarks.models import Benchmark, ProtocolVersion
from submissions.models import Status, Submission


def leaderboard_metrics(benchmark: Benchmark) -> list[str]:
    """Names of the metrics shown as leaderboard columns, rank metric first."""
    names = [metric.name for metric in benchmark.typed_spec.metrics if metric.leaderboard]
    return [benchmark.rank_by] + [name for name in names if name != benchmark.rank_by]


def ranked_submissions(
    benchmark: Benchmark,
    protocol: ProtocolVersion | None = None,
    metric: str | None = None,
    viewer: AbstractBaseUser | AnonymousUser | None = None,
    scored: int | None = None,
) -> QuerySet[Submission]:
    """Finished submissions on one protocol, best first, annotated with ``rank``, ``score``, ``ci_low``, ``ci_high``.

    Public submissions are listed for everyone; a signed-in ``viewer`` also
    sees their own private ones. ``protocol`` defaults to the benchmark's
    current one and ``metric`` to the spec's ``leaderboard.rank_by``.
    Submissions whose metric is undefined (null) come last. ``scored`` names
    one submission to rank as if finished: its result is stored and its
    status is about to say so (the comparisons of a new result).
    """
    protocol = protocol or benchmark.current_version()
    if protocol is None:
        return Submission.objects.none()
    metric = metric or benchmark.rank_by
    higher_is_better = benchmark.higher_is_better(metric)
    visible = Q(is_public=True)
    if viewer is not None and getattr(viewer, "is_authenticated", False):
        visible |= Q(owner=viewer)
    order = F("score").desc(nulls_last=True) if higher_is_better else F("score").asc(nulls_last=True)
    finished = Q(status=Status.FINISHED) | Q(pk=scored) if scored is not None else Q(status=Status.FINISHED)
    return (
        Submission.objects.filter(visible, finished, benchmark=benchmark, protocol=protocol)
        .annotate(ranked=FilteredRelation("metric_values", condition=Q(metric_values__name=metric)))
        .filter(ranked__isnull=False)
        .annotate(score=F("ranked__value"), ci_low=F("ranked__ci_low"), ci_high=F("ranked__ci_high"))
        .annotate(rank=Window(Rank(), order_by=order))
        .select_related("owner", "result")
        .order_by(order, "created")
    )
