"""95% intervals of a metric, and the paired test between two submissions.

Two kinds, named by each metric's ``interval`` (see docs/statistics.md for
their measured coverage):

- ``"percentile"``: the bootstrap of :mod:`evaluator.metrics.bootstrap`
  (resampling test items with replacement). Right for metrics that are means
  or rank statistics of per-item values (top-k, CMC, verification accuracy,
  AUC), where a duplicated item is just another item. The percentile
  interval is then widened, when needed, to hold the estimate itself: a
  statistic that is not a plain mean (10-fold verification accuracy picks
  its thresholds on the resample, duplicates included) can have every
  resample on one side of it, and an interval beside its own estimate
  reads as a contradiction on the leaderboard (measured in
  docs/statistics.md: 1 of 200 replications before the widening).
- ``"jackknife"``: a grouped delete-one-group jackknife. The test items are
  put into ``JACKKNIFE_GROUPS`` groups by ``numpy.random.default_rng(seed)
  .permutation(n)`` cut with ``numpy.array_split``; replicate ``g`` is the
  metric on every item outside group ``g`` (distinct rows only), the standard
  error is ``sqrt((G - 1) / G * sum((v_g - mean(v))^2))`` and the interval is
  ``estimate ± t(G - 1, 0.975) · se``. FID and KID use it: a resample with
  replacement repeats feature rows, which shrinks the output set's
  covariance and inflates both statistics, so every bootstrap FID landed
  above the estimate. The jackknife never repeats a row, and the interval
  is centred on the estimate, so it contains it by construction.

:func:`paired_difference` compares two submissions on the same test items:
the same resamples (or the same jackknife groups) are applied to both, so
what they have in common (which items are hard) cancels out.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from evaluator.metrics.base import MetricDef
from evaluator.metrics.bootstrap import Resamplable, bootstrap_ci, bootstrap_values

JACKKNIFE_GROUPS = 20


@dataclass(frozen=True)
class PairedDifference:
    """Metric of submission a minus that of submission b, its interval and two-sided p-value."""

    difference: float
    low: float
    high: float
    p_value: float
    method: str


def jackknife_groups(n: int, groups: int = JACKKNIFE_GROUPS, seed: int = 0) -> list[np.ndarray]:
    """The documented grouping: a seeded permutation of ``range(n)`` cut into ``min(groups, n)``."""
    if n < 2:
        raise ValueError(f"a jackknife needs at least 2 test items, got {n}")
    order = np.random.default_rng(seed).permutation(n)
    return np.array_split(order, min(groups, n))


def jackknife_values(fn: Callable[[Any, Any], float], evidence: Resamplable, params: Any,
                     groups: int = JACKKNIFE_GROUPS, seed: int = 0) -> np.ndarray:
    """float[G]: the metric with each group left out (NaN where it is undefined)."""
    n = len(evidence)
    values = []
    for left_out in jackknife_groups(n, groups, seed):
        keep = np.setdiff1d(np.arange(n), left_out)
        try:
            values.append(float(fn(evidence.take(keep), params)))
        except ValueError:
            values.append(float("nan"))
    return np.array(values)


def jackknife_standard_error(values: np.ndarray) -> float:
    """Grouped jackknife standard error of the replicates ``values`` (NaN if any is NaN)."""
    g = len(values)
    return float(np.sqrt((g - 1) / g * np.sum((values - values.mean()) ** 2)))


def _t_quantile(groups: int, confidence: float) -> float:
    return float(stats.t.ppf(0.5 + confidence / 2.0, groups - 1))


def jackknife_ci(fn: Callable[[Any, Any], float], evidence: Resamplable, params: Any,
                 groups: int = JACKKNIFE_GROUPS, seed: int = 0, confidence: float = 0.95
                 ) -> tuple[float, float]:
    """``estimate ± t · se`` with the grouped jackknife standard error (module docstring)."""
    _check_confidence(confidence)
    estimate = float(fn(evidence, params))
    values = jackknife_values(fn, evidence, params, groups, seed)
    half_width = _t_quantile(len(values), confidence) * jackknife_standard_error(values)
    return estimate - half_width, estimate + half_width


def metric_interval(definition: MetricDef, evidence: Resamplable, params: Any,
                    resamples: int | None = None, seed: int = 0, confidence: float = 0.95,
                    progress: bool = False, estimate: float | None = None) -> tuple[float, float]:
    """The metric's interval of its own kind; ``resamples`` overrides the bootstrap size only.

    A percentile interval is widened to hold the estimate (``estimate``, the
    metric on all items, computed here when not given): see the module docstring.
    """
    if definition.interval == "jackknife":
        return jackknife_ci(definition.fn, evidence, params, seed=seed, confidence=confidence)
    count = resamples if resamples is not None else definition.resamples
    low, high = bootstrap_ci(definition.fn, evidence, params, resamples=count, seed=seed,
                             confidence=confidence, progress=progress)
    value = float(definition.fn(evidence, params)) if estimate is None else float(estimate)
    return holding(value, low, high)


def holding(estimate: float, low: float, high: float) -> tuple[float, float]:
    """``[low, high]`` stretched to hold ``estimate`` (unchanged when any of the three is NaN)."""
    if any(math.isnan(value) for value in (estimate, low, high)):
        return low, high
    return min(low, estimate), max(high, estimate)


def paired_difference(definition: MetricDef, evidence_a: Resamplable, evidence_b: Resamplable,
                      params: Any, resamples: int | None = None, seed: int = 0,
                      confidence: float = 0.95) -> PairedDifference:
    """``metric(a) - metric(b)`` on the same test items, with a paired interval and p-value.

    Percentile metrics: both submissions are scored on the same bootstrap
    resamples; the interval is the percentile interval of the differences and
    the p-value ``(1 + #{|d_b - d| >= |d|}) / (B + 1)`` (the resampled
    differences centred on the observed one stand for "no difference").
    Jackknife metrics: the differences of the two submissions' replicates on
    the same groups give the standard error; the interval is ``d ± t · se``
    and the p-value the two-sided t-test of ``d / se`` with ``G - 1`` degrees
    of freedom.
    """
    _check_confidence(confidence)
    if len(evidence_a) != len(evidence_b):
        raise ValueError(f"paired test needs the same test items, got {len(evidence_a)} and "
                         f"{len(evidence_b)}")
    difference = float(definition.fn(evidence_a, params)) - float(definition.fn(evidence_b, params))
    if definition.interval == "jackknife":
        replicates = (jackknife_values(definition.fn, evidence_a, params, seed=seed)
                      - jackknife_values(definition.fn, evidence_b, params, seed=seed))
        return _jackknife_difference(difference, replicates, confidence)
    count = resamples if resamples is not None else definition.resamples
    replicates = (bootstrap_values(definition.fn, evidence_a, params, count, seed)
                  - bootstrap_values(definition.fn, evidence_b, params, count, seed))
    return _bootstrap_difference(difference, replicates[~np.isnan(replicates)], confidence)


def _bootstrap_difference(difference: float, replicates: np.ndarray, confidence: float
                          ) -> PairedDifference:
    if replicates.size == 0:
        return PairedDifference(difference, float("nan"), float("nan"), float("nan"), "bootstrap")
    alpha = 1.0 - confidence
    low, high = np.percentile(replicates, [100.0 * alpha / 2, 100.0 * (1.0 - alpha / 2)])
    extreme = np.count_nonzero(np.abs(replicates - difference) >= abs(difference))
    p_value = (1 + extreme) / (replicates.size + 1)
    return PairedDifference(difference, float(low), float(high), float(p_value), "bootstrap")


def _jackknife_difference(difference: float, replicates: np.ndarray, confidence: float
                          ) -> PairedDifference:
    se = jackknife_standard_error(replicates)
    half_width = _t_quantile(len(replicates), confidence) * se
    if se == 0.0:
        p_value = 1.0 if difference == 0.0 else 0.0
    else:
        p_value = float(2.0 * stats.t.sf(abs(difference) / se, len(replicates) - 1))
    return PairedDifference(difference, difference - half_width, difference + half_width,
                            p_value, "jackknife")


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
