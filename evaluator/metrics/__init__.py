"""The metric registry: every ``fn`` a benchmark spec names resolves here.

A metric is a pure function ``fn(evidence, params) -> float``. ``evidence`` is
the per-item material a family of metrics reduces (for example the probes'
ranks for CMC, the pairs' similarities for verification); it supports
``len()`` and ``take(indices)`` so the bootstrap can resample test items and
re-run the same function.

A metric may also add per-metric ``details`` (``details(evidence, params) ->
dict``, merged into its evidence kind's details, e.g. per-class rates at its
own ``k``) and names the ``interval`` its 95% interval is made with:
``"percentile"`` (bootstrap over test items) or ``"jackknife"`` (grouped
delete-one-group jackknife, for statistics that duplicated rows bias, such as
FID and KID); see :mod:`evaluator.metrics.intervals`.
"""

from evaluator.metrics.base import EVIDENCE_TYPES, METRICS, MetricDef, register_evidence, register_metric
from evaluator.metrics import classification, generation, identification, verification  # noqa: F401  (registration)

__all__ = ["EVIDENCE_TYPES", "METRICS", "MetricDef", "register_evidence", "register_metric"]
