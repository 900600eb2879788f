"""Percentile bootstrap confidence intervals over test items.

Resampling unit: the evidence's items (images for classification and
generation, probes for CMC, pairs for verification). The draw is fixed by
the seed and documented so anyone can reproduce an interval:

    indices = numpy.random.default_rng(seed).integers(0, n, size=(resamples, n))

row ``b`` is resample ``b``; the metric is recomputed on ``evidence.take(row)``
and the interval is ``numpy.percentile(values, [100·a/2, 100·(1 - a/2)])``
(linear interpolation) with ``a = 1 - confidence``. A resample on which the
metric is undefined (e.g. AUC with a single class) counts as NaN and is left
out of the percentiles. The dev kit draws with ``seed = 0``; the server's
public intervals and paired tests draw with a seed keyed by the build secret
(``evaluator.scoring.statistics_seed``), so only the operator can redo the
draw (and ``evaluator.metrics.intervals.metric_interval`` widens the
interval to hold the estimate).

A metric that is a plain function of per-item values can attach a vectorised
form with :func:`vectorised`; it receives the whole index matrix and returns
one value per resample, and must give the same numbers as the loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
from tqdm import tqdm

BatchFn = Callable[[Any, Any, np.ndarray], np.ndarray]


class Resamplable(Protocol):
    def __len__(self) -> int: ...

    def take(self, indices: np.ndarray) -> Any: ...


def vectorised(over_resamples: BatchFn) -> Callable[[Callable[..., float]], Callable[..., float]]:
    """Attach ``over_resamples(evidence, params, indices[B, n]) -> float[B]`` to a metric."""

    def decorator(fn: Callable[..., float]) -> Callable[..., float]:
        fn.over_resamples = over_resamples  # type: ignore[attr-defined]
        return fn

    return decorator


def resample_indices(n: int, resamples: int, seed: int) -> np.ndarray:
    """The documented draw: int64[resamples, n] of item indices, with replacement."""
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def bootstrap_values(
    fn: Callable[[Any, Any], float],
    evidence: Resamplable,
    params: Any,
    resamples: int = 1000,
    seed: int = 0,
    progress: bool = False,
) -> np.ndarray:
    """float[resamples]: the metric on every resample (NaN where it is undefined)."""
    n = len(evidence)
    if n == 0:
        raise ValueError("cannot bootstrap a metric over zero test items")
    indices = resample_indices(n, resamples, seed)
    over_resamples = getattr(fn, "over_resamples", None)
    if over_resamples is not None:
        return np.asarray(over_resamples(evidence, params, indices), dtype=np.float64)
    rows = tqdm(indices, desc="bootstrap", unit="resample", disable=not progress, leave=False)
    return np.array([_value_or_nan(fn, evidence.take(row), params) for row in rows])


def _value_or_nan(fn: Callable[[Any, Any], float], evidence: Any, params: Any) -> float:
    try:
        return float(fn(evidence, params))
    except ValueError:
        return float("nan")


def bootstrap_ci(
    fn: Callable[[Any, Any], float],
    evidence: Resamplable,
    params: Any,
    resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    progress: bool = False,
) -> tuple[float, float]:
    """Percentile interval of ``fn`` over ``resamples`` bootstrap resamples of the test items."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    values = bootstrap_values(fn, evidence, params, resamples, seed, progress)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    alpha = 1.0 - confidence
    low, high = np.percentile(values, [100.0 * alpha / 2, 100.0 * (1.0 - alpha / 2)])
    return float(low), float(high)
