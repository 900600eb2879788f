"""Paired tests between adjacent leaderboard rows, computed once and stored.

Two rows next to each other on the sorting metric are compared on the same
test items: ``evaluator.scoring.compare_evidence`` runs the metric on the same
bootstrap resamples (jackknife groups for FID and KID) of both results' stored
evidence. The outcome is stored as a ``PairedComparison`` the first time the
pair is shown, so later renders only read it. One table build computes at most
``MAX_NEW_COMPARISONS`` pairs and stops starting new ones after
``COMPUTE_BUDGET_S`` seconds (a pair costs milliseconds for top-k and CMC, up to
about a second for 10-fold verification accuracy or KID), so a first render
stays quick; pairs not computed yet use the overlap rule until a later
request fills them in.

A comparison that cannot be made (evidence unreadable, missing, or of other
test items) is stored with its reason and logged on one line; the table then
falls back to the overlap of the two 95% intervals.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

from benchmarks.models import ProtocolVersion
from datasets.spec_models import MetricSpec
from evaluator.evidence_store import load_evidence
from evaluator.scoring import CONFIDENCE, compare_evidence
from leaderboards.models import PairedComparison
from submissions.models import Result

logger = logging.getLogger(__name__)

SIGNIFICANCE = 1.0 - CONFIDENCE
"""Adjacent rows are "not significantly different" when the paired p-value is at least this."""
MAX_NEW_COMPARISONS = 100
COMPUTE_BUDGET_S = 5.0
PAIR_BATCH = 250
FAILURE_CHARS = 300

Pair = tuple[Result, Result]
Evidences = dict[str, Any]


def not_significant(comparison: PairedComparison) -> bool:
    """The pair's paired test cannot tell the two apart at the 5% level."""
    return comparison.p_value is not None and comparison.p_value >= SIGNIFICANCE


def stored_comparisons(protocol: ProtocolVersion, metric: str, pairs: list[Pair]
                       ) -> dict[tuple[int, int], PairedComparison]:
    """The comparison of every pair (above, below) on ``metric``, computing those not stored yet.

    Pairs where either result has no evidence file are left out (the caller
    uses the overlap rule); so are pairs not computed yet once this call has
    made ``MAX_NEW_COMPARISONS`` or spent ``COMPUTE_BUDGET_S`` (at least one
    is made per call, so every pair gets its turn).
    """
    wanted = [(above, below) for above, below in pairs if above.evidence and below.evidence]
    found = _stored(metric, wanted)
    missing = [pair for pair in wanted if (pair[0].pk, pair[1].pk) not in found][:MAX_NEW_COMPARISONS]
    if not missing:
        return found
    entry = _metric_entry(protocol, metric)
    loaded: dict[int, Evidences | str] = {}
    deadline = time.monotonic() + COMPUTE_BUDGET_S
    made: list[PairedComparison] = []
    for above, below in missing:
        made.append(_compare(metric, entry, above, below, lambda result: _evidence(result, loaded)))
        if time.monotonic() >= deadline:
            break
    PairedComparison.objects.bulk_create(made, ignore_conflicts=True)  # a parallel render may have stored one
    found.update(((comparison.first_id, comparison.second_id), comparison) for comparison in made)
    return found


def _stored(metric: str, pairs: list[Pair]) -> dict[tuple[int, int], PairedComparison]:
    found: dict[tuple[int, int], PairedComparison] = {}
    for start in range(0, len(pairs), PAIR_BATCH):
        batch = pairs[start: start + PAIR_BATCH]
        keys = {(above.pk, below.pk) for above, below in batch}
        rows = PairedComparison.objects.filter(
            metric=metric, first_id__in={a for a, _ in keys}, second_id__in={b for _, b in keys})
        found.update(((row.first_id, row.second_id), row) for row in rows if (row.first_id, row.second_id) in keys)
    return found


def _metric_entry(protocol: ProtocolVersion, metric: str) -> MetricSpec | None:
    """The metric's entry (fn, params) in the spec the protocol was frozen from."""
    try:
        return protocol.typed_spec.metric(metric)
    except KeyError:
        return None


def _compare(metric: str, entry: MetricSpec | None, above: Result, below: Result,
             evidence_of: Callable[[Result], Evidences | str]) -> PairedComparison:
    comparison = PairedComparison(metric=metric, first=above, second=below)
    first, second = evidence_of(above), evidence_of(below)
    if entry is None:
        return _failed(comparison, f"the protocol's spec has no metric {metric!r}")
    if isinstance(first, str) or isinstance(second, str):
        return _failed(comparison, first if isinstance(first, str) else str(second))
    try:
        outcome = compare_evidence(entry.fn, dict(entry.params), first, second)
    except (ValueError, KeyError) as exc:  # evidence of other test items, or a metric no longer registered
        return _failed(comparison, f"{type(exc).__name__}: {exc}")
    if not math.isfinite(outcome.p_value):
        return _failed(comparison, "the metric is undefined on every resample")
    comparison.difference, comparison.low, comparison.high = outcome.difference, outcome.low, outcome.high
    comparison.p_value, comparison.method = outcome.p_value, outcome.method
    return comparison


def _evidence(result: Result, loaded: dict[int, Evidences | str]) -> Evidences | str:
    """The result's evidence, read once per table build; a string says why it cannot be read."""
    if result.pk not in loaded:
        try:
            with result.evidence.open("rb") as handle:
                loaded[result.pk] = load_evidence(handle.read())
        except (ValueError, OSError) as exc:  # EvidenceError is a ValueError; a missing file an OSError
            loaded[result.pk] = f"evidence of result #{result.pk}: {exc}"
    return loaded[result.pk]


def _failed(comparison: PairedComparison, reason: str) -> PairedComparison:
    reason = " ".join(reason.split())[:FAILURE_CHARS]
    logger.warning("paired test of %s between results #%s and #%s failed: %s", comparison.metric,
                   comparison.first_id, comparison.second_id, reason)
    comparison.failure = reason
    return comparison
