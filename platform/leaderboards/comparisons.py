"""Paired tests between adjacent leaderboard rows: made by workers, stored, only read by pages.

Two rows next to each other on a sortable metric are compared on the same
test items: ``evaluator.scoring.compare_evidence`` runs the metric on the same
bootstrap resamples (jackknife groups for FID and KID) of both results' stored
evidence, drawn with the protocol's keyed seed
(``evaluator.scoring.recorded_statistics_seed``), so nobody without the build
secret can compute a p-value from which items each row got right.

Who computes, and when (a page render never does: it reads finished rows and
uses the interval-overlap rule for pairs without one):

- ``compare_new_result``: once a result is stored, the task
  ``leaderboards.tasks.compare_neighbours`` compares the pairs its row forms
  on every leaderboard metric, in the one-row-per-team view and the view of
  every submission (at most four per metric, and every stored result costs
  a submission of the team's daily quota).
- ``compare_visible_neighbours``: the periodic maintenance pass compares the
  pairs made adjacent otherwise (a submission hidden, published or deleted),
  at most ``VISIBILITY_PAIRS_PER_DAY`` new pairs in any 24 hours involving one
  participant's results (baselines are not counted), so hiding and
  re-publishing submissions cannot buy p-values; the rest wait their turn.

A pair is claimed once: its row is created ``pending`` (one per metric and
ordered pair, by a unique constraint), so two workers never compute the same
pair; a claim older than ``STALE_CLAIM_S`` (its worker died) is taken over by
one conditional update. Stored comparisons are kept, so a hidden and
re-published submission reads its old ones back. A comparison that raises
anything is stored ``failed`` with its reason, logged on one line.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from benchmarks.models import ProtocolVersion
from datasets.secret import BuildSecretError
from datasets.spec_models import MetricSpec
from evaluator.evidence_store import load_evidence
from evaluator.scoring import CONFIDENCE, StatisticsSecretError, compare_evidence, recorded_statistics_seed
from leaderboards.queries import VIEWS, entry_rule, leaderboard_metrics, ranked_submissions
from results.models import ComparisonState, ComparisonTrigger, PairedComparison, Result
from submissions.models import Status, Submission

logger = logging.getLogger(__name__)

SIGNIFICANCE = 1.0 - CONFIDENCE
"""Adjacent rows are "not significantly different" when the paired p-value is at least this."""
VISIBILITY_PAIRS_PER_DAY = 20
STALE_CLAIM_S = 900
PASS_BUDGET_S = 30.0
PAIR_BATCH = 250
FAILURE_CHARS = 300

Pair = tuple[Result, Result]
Key = tuple[int, int]
Evidences = dict[str, Any]


@dataclass(frozen=True)
class Neighbours:
    """Two adjacent rows' results (the upper one first) and the participants who own them (baselines left out)."""

    above: int
    below: int
    owners: frozenset[int]


def not_significant(comparison: PairedComparison) -> bool:
    """The pair's paired test cannot tell the two apart at the 5% level."""
    return comparison.p_value is not None and comparison.p_value >= SIGNIFICANCE


def stored_comparisons(metric: str, pairs: list[Pair]) -> dict[Key, PairedComparison]:
    """The finished (done or failed) comparison of each pair (above, below) on ``metric``; computes nothing."""
    rows = _rows(metric, [(above.pk, below.pk) for above, below in pairs])
    return {key: row for key, row in rows.items() if row.state != ComparisonState.PENDING}


def adjacent(protocol: ProtocolVersion, metric: str, scored: int | None = None) -> list[Neighbours]:
    """Public rows next to each other on ``metric``, in either view of the leaderboard (one row per team, or
    every submission), whose values are known and whose results have evidence; each pair once.

    ``scored`` ranks that submission as finished (``ranked_submissions``). A
    benchmark with competition phases has one leaderboard per phase, each
    over its own part of the test items: rows are neighbours within a phase.
    """
    pairs: dict[Key, Neighbours] = {}
    benchmark = protocol.benchmark
    boards = [(view, phase) for view in VIEWS for phase in (list(benchmark.phases.all()) or [None])]
    for view, phase in boards:
        rows = list(ranked_submissions(benchmark, protocol, metric=metric, scored=scored, view=view, phase=phase,
                                       rule=entry_rule(benchmark, phase))
                    .values_list("result__pk", "score", "result__evidence", "owner_id", "is_baseline"))
        for upper, lower in zip(rows, rows[1:]):
            if upper[1] is None or lower[1] is None or not (upper[2] and lower[2]):
                continue
            owners = frozenset(row[3] for row in (upper, lower) if not row[4])
            pairs.setdefault((upper[0], lower[0]), Neighbours(upper[0], lower[0], owners))
    return list(pairs.values())


def compare_new_result(result_id: int) -> int:
    """Compare the pairs a newly stored public result forms on every leaderboard metric; how many were made."""
    result = Result.objects.select_related("submission__protocol__benchmark").filter(pk=result_id).first()
    if result is None or not result.submission.is_public or result.submission.protocol is None:
        return 0
    protocol = result.submission.protocol
    made = 0
    for metric in leaderboard_metrics(protocol.benchmark):
        pairs = [pair for pair in adjacent(protocol, metric, scored=result.submission_id)
                 if result.pk in (pair.above, pair.below)]
        made += compare_pairs(protocol, metric, pairs, ComparisonTrigger.RESULT)
    return made


def compare_visible_neighbours(budget_s: float = PASS_BUDGET_S) -> int:
    """The maintenance pass: every adjacent pair of every shown protocol not compared yet, within the
    participants' daily allowance, starting no new pair after ``budget_s`` seconds; how many were made."""
    deadline = time.monotonic() + budget_s
    allowance = Allowance()
    made = 0
    for protocol in shown_protocols():
        for metric in leaderboard_metrics(protocol.benchmark):
            made += compare_pairs(protocol, metric, adjacent(protocol, metric), ComparisonTrigger.VISIBILITY,
                                  deadline, allowance)
            if time.monotonic() >= deadline:
                return made
    return made


def shown_protocols() -> list[ProtocolVersion]:
    """Protocols with at least one public finished submission (their leaderboards can be shown)."""
    shown = Submission.objects.filter(is_public=True, status=Status.FINISHED).values("protocol_id")
    return list(ProtocolVersion.objects.filter(pk__in=shown).select_related("benchmark").order_by("pk"))


class Allowance:
    """New visibility-made pairs each participant may still get: ``VISIBILITY_PAIRS_PER_DAY`` in 24 hours."""

    def __init__(self) -> None:
        self.used: dict[int, int] = {}

    def allows(self, owners: frozenset[int]) -> bool:
        return all(self._used(owner) < VISIBILITY_PAIRS_PER_DAY for owner in owners)

    def spend(self, owners: frozenset[int]) -> None:
        for owner in owners:
            self.used[owner] = self._used(owner) + 1

    def _used(self, owner: int) -> int:
        if owner not in self.used:
            since = timezone.now() - timedelta(days=1)
            own = (Q(first__submission__owner_id=owner, first__submission__is_baseline=False)
                   | Q(second__submission__owner_id=owner, second__submission__is_baseline=False))
            self.used[owner] = PairedComparison.objects.filter(
                own, trigger=ComparisonTrigger.VISIBILITY, created__gte=since).count()
        return self.used[owner]


def compare_pairs(protocol: ProtocolVersion, metric: str, pairs: list[Neighbours], trigger: str,
                  deadline: float | None = None, allowance: Allowance | None = None) -> int:
    """Claim and compute every pair without a comparison (or with a stale claim); how many were made."""
    existing = _rows(metric, [(pair.above, pair.below) for pair in pairs])
    todo = [pair for pair in pairs if _claimable(existing.get((pair.above, pair.below)))]
    if not todo:
        return 0
    seed = _seed(protocol)
    if seed is None:
        return 0
    entry = _metric_entry(protocol, metric)
    loaded: dict[int, Evidences | str] = {}
    made = 0
    for pair in todo:
        if deadline is not None and time.monotonic() >= deadline:
            break
        if allowance is not None and not allowance.allows(pair.owners):
            continue
        comparison = claim(metric, pair.above, pair.below, trigger)
        if comparison is None:
            continue
        if allowance is not None:
            allowance.spend(pair.owners)
        finish(comparison, entry, seed, lambda pk: _evidence(pk, loaded))
        made += 1
    return made


def claim(metric: str, above: int, below: int, trigger: str) -> PairedComparison | None:
    """The pair's new ``pending`` row, or a stale claim taken over; None when another worker holds it."""
    now = timezone.now()
    try:
        with transaction.atomic():
            return PairedComparison.objects.create(metric=metric, first_id=above, second_id=below,
                                                   trigger=trigger, claimed_at=now)
    except IntegrityError:  # claimed or finished by someone else (or a result deleted meanwhile)
        pass
    same = PairedComparison.objects.filter(metric=metric, first_id=above, second_id=below)
    stale = now - timedelta(seconds=STALE_CLAIM_S)
    if same.filter(state=ComparisonState.PENDING, claimed_at__lt=stale).update(claimed_at=now) != 1:
        return None
    return same.first()


def finish(comparison: PairedComparison, entry: MetricSpec | None, seed: int,
           evidence_of: Callable[[int], Evidences | str]) -> None:
    """Compute a claimed comparison and store it done, or failed with its reason whatever went wrong."""
    try:
        fields = _tested(comparison, entry, seed, evidence_of)
    except Exception as exc:  # a metric or a file may raise anything; the page must still render
        fields = _failure(comparison, f"{type(exc).__name__}: {exc}")
    PairedComparison.objects.filter(pk=comparison.pk, state=ComparisonState.PENDING).update(
        finished_at=timezone.now(), **fields)


def _tested(comparison: PairedComparison, entry: MetricSpec | None, seed: int,
            evidence_of: Callable[[int], Evidences | str]) -> dict[str, Any]:
    if entry is None:
        return _failure(comparison, f"the protocol's spec has no metric {comparison.metric!r}")
    first, second = evidence_of(comparison.first_id), evidence_of(comparison.second_id)
    if isinstance(first, str) or isinstance(second, str):
        return _failure(comparison, first if isinstance(first, str) else str(second))
    outcome = compare_evidence(entry.fn, dict(entry.params), first, second, seed=seed)
    if not math.isfinite(outcome.p_value):
        return _failure(comparison, "the metric is undefined on every resample")
    return {"state": ComparisonState.DONE, "difference": outcome.difference, "low": outcome.low,
            "high": outcome.high, "p_value": outcome.p_value, "method": outcome.method}


def _failure(comparison: PairedComparison, reason: str) -> dict[str, Any]:
    reason = " ".join(reason.split())[:FAILURE_CHARS]
    logger.warning("paired test of %s between results #%s and #%s failed: %s", comparison.metric,
                   comparison.first_id, comparison.second_id, reason)
    return {"state": ComparisonState.FAILED, "failure": reason}


def _claimable(row: PairedComparison | None) -> bool:
    if row is None:
        return True
    stale = timezone.now() - timedelta(seconds=STALE_CLAIM_S)
    return row.state == ComparisonState.PENDING and row.claimed_at is not None and row.claimed_at < stale


def _rows(metric: str, keys: list[Key]) -> dict[Key, PairedComparison]:
    found: dict[Key, PairedComparison] = {}
    for start in range(0, len(keys), PAIR_BATCH):
        batch = set(keys[start: start + PAIR_BATCH])
        rows = PairedComparison.objects.filter(
            metric=metric, first_id__in={a for a, _ in batch}, second_id__in={b for _, b in batch})
        found.update(((row.first_id, row.second_id), row) for row in rows if (row.first_id, row.second_id) in batch)
    return found


def _seed(protocol: ProtocolVersion) -> int | None:
    """The protocol's keyed seed; None (logged) when this host has no usable build secret for it."""
    try:
        return recorded_statistics_seed(settings.TOONBENCH_DATA_ROOT, protocol.benchmark.slug,
                                        protocol.protocol_hash)
    except (StatisticsSecretError, BuildSecretError) as exc:
        logger.error("paired tests of %s are not computed: %s", protocol, exc)
        return None


def _metric_entry(protocol: ProtocolVersion, metric: str) -> MetricSpec | None:
    """The metric's entry (fn, params) in the spec the protocol was frozen from."""
    try:
        return protocol.typed_spec.metric(metric)
    except KeyError:
        return None


def _evidence(result_id: int, loaded: dict[int, Evidences | str]) -> Evidences | str:
    """The result's evidence, read once per pass; a string says why it cannot be read."""
    if result_id not in loaded:
        try:
            result = Result.objects.only("pk", "evidence").get(pk=result_id)
            with result.evidence.open("rb") as handle:
                loaded[result_id] = load_evidence(handle.read())
        except (ValueError, OSError, Result.DoesNotExist) as exc:  # EvidenceError is a ValueError
            loaded[result_id] = f"evidence of result #{result_id}: {exc}"
    return loaded[result_id]
