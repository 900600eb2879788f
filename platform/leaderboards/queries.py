"""Leaderboard queries: one row per team, chosen by the entry rule, ranked by one metric with its interval.

Every participant enters as a team (a team of one until they join one), and
a leaderboard shows one row per team: the team's entry under the rule that
``entry_rule`` returns (``best`` by the rank metric, ties to the earlier
submission; ``latest``, the newest finished one; ``chosen``, the one a member
marked, so a team that marked none has no row). A baseline is never folded
into its owner's team: each bundled baseline is a row of its own. The view
``all`` lists every finished entry instead, one row per submission.

The entry of each team is picked by one window query (``ROW_NUMBER()`` per
team, in the rule's order) over the indexed ``MetricValue`` rows, and the
entries are then ranked by the sorting metric; direction (higher or lower is
better) comes from the benchmark spec.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Case, F, FilteredRelation, OrderBy, Q, QuerySet, Value, When, Window
from django.db.models.functions import Rank, RowNumber

from benchmarks.models import Benchmark, ProtocolVersion
from datasets.phases import EntryRule
from submissions.models import Status, Submission

VIEWS = ("teams", "all")
"""``teams``: one row per team (the default); ``all``: every finished public submission."""


def leaderboard_metrics(benchmark: Benchmark) -> list[str]:
    """Names of the metrics shown as leaderboard columns, rank metric first."""
    names = [metric.name for metric in benchmark.typed_spec.metrics if metric.leaderboard]
    return [benchmark.rank_by] + [name for name in names if name != benchmark.rank_by]


def entry_rule(benchmark: Benchmark, phase: Any = None) -> EntryRule:
    """Which submission of a team is its row: the phase's ``entry`` when a phase is given, else the
    benchmark spec's ``entry`` key, else ``best``."""
    declared = phase.entry if phase is not None else benchmark.spec.get("entry")
    return EntryRule(declared or EntryRule.best)


def view_name(requested: str | None) -> str:
    """The requested view if it is one (``all``), else ``teams``."""
    return requested if requested in VIEWS else VIEWS[0]


def ranked_submissions(
    benchmark: Benchmark,
    protocol: ProtocolVersion | None = None,
    metric: str | None = None,
    viewer: AbstractBaseUser | AnonymousUser | None = None,
    scored: int | None = None,
    view: str = "teams",
    rule: EntryRule | None = None,
    phase: Any = None,
) -> QuerySet[Submission]:
    """The leaderboard's rows on one protocol, best first, annotated with ``rank``, ``score``, ``ci_low``,
    ``ci_high``: each team's entry under ``rule`` (default ``entry_rule(benchmark)``) and every baseline,
    or with ``view="all"`` every finished submission.

    Public submissions are listed for everyone; a signed-in ``viewer`` also
    sees their own private ones. ``protocol`` defaults to the benchmark's
    current one and ``metric`` to the spec's ``leaderboard.rank_by``.
    Submissions whose metric is undefined (null) come last. ``scored`` names
    one submission to rank as if finished: its result is stored and its
    status is about to say so (the comparisons of a new result). ``phase``
    ranks only the submissions that entered that competition phase.
    """
    protocol = protocol or benchmark.current_version()
    if protocol is None:
        return Submission.objects.none()
    metric = metric or benchmark.rank_by
    visible = Q(is_public=True)
    if viewer is not None and getattr(viewer, "is_authenticated", False):
        visible |= Q(owner=viewer)
    finished = Q(status=Status.FINISHED) | Q(pk=scored) if scored is not None else Q(status=Status.FINISHED)
    shown = Submission.objects.filter(visible, finished, benchmark=benchmark, protocol=protocol)
    if phase is not None:
        shown = shown.filter(phase=phase)
    if view_name(view) == "teams":
        shown = shown.filter(pk__in=team_entries(shown, benchmark, rule or entry_rule(benchmark)))
    order = score_order(benchmark, metric)
    return (
        with_score(shown, metric, "ranked")
        .annotate(score=F("ranked__value"), ci_low=F("ranked__ci_low"), ci_high=F("ranked__ci_high"))
        .annotate(rank=Window(Rank(), order_by=order))
        .select_related("owner", "team", "result")
        .order_by(order, "created")
    )


def team_entries(candidates: QuerySet[Submission], benchmark: Benchmark, rule: EntryRule) -> QuerySet[Submission]:
    """Ids of each team's entry among ``candidates`` under ``rule``, plus every baseline (one window query)."""
    if rule == EntryRule.chosen:
        candidates = candidates.filter(Q(chosen=True) | Q(is_baseline=True))
    if rule == EntryRule.latest:
        order = [F("created").desc(), F("pk").desc()]
    else:
        candidates = with_score(candidates, benchmark.rank_by, "entry_metric")
        order = [score_order(benchmark, benchmark.rank_by, F("entry_metric__value")), F("created").asc(),
                 F("pk").asc()]
    # A baseline is a partition of its own; every other submission shares its team's.
    own_row = Case(When(is_baseline=True, then=F("pk")), default=Value(0))
    return (
        candidates.annotate(entry_position=Window(RowNumber(), partition_by=[F("team_id"), own_row], order_by=order))
        .filter(entry_position=1)
        .values("pk")
    )


def with_score(submissions: QuerySet[Submission], metric: str, alias: str) -> QuerySet[Submission]:
    """Only submissions with a stored value of ``metric``, joined to it as ``alias``."""
    joined = submissions.annotate(**{alias: FilteredRelation("metric_values",
                                                            condition=Q(metric_values__name=metric))})
    return joined.filter(**{f"{alias}__isnull": False})


def score_order(benchmark: Benchmark, metric: str, score: F | None = None) -> OrderBy:
    """Best first on ``metric`` (its direction from the spec), undefined values last."""
    score = score if score is not None else F("score")
    return score.desc(nulls_last=True) if benchmark.higher_is_better(metric) else score.asc(nulls_last=True)
