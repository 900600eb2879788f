"""The registry and its types for ``evaluator.metrics``; the package imports its registering modules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from datasets.components import NoParams
from datasets.registry import Registry


@dataclass(frozen=True)
class MetricDef:
    name: str
    tasks: tuple[str, ...]
    evidence: str
    higher_is_better: bool | None
    params_model: type[BaseModel]
    fn: Callable[[Any, Any], float]
    resamples: int = 1000
    """Bootstrap resamples for the 95% interval (fewer for costly metrics such as FID)."""
    details: Callable[[Any, Any], dict[str, Any]] | None = None
    """Per-metric details merged into the evidence kind's details."""
    interval: Literal["percentile", "jackknife"] = "percentile"
    """How the 95% interval is made (see :mod:`evaluator.metrics.intervals`)."""


METRICS: Registry[MetricDef] = Registry("metric")
EVIDENCE_TYPES: Registry[type] = Registry("evidence type")
"""Evidence kind (a metric's ``evidence``) -> the dataclass its metrics reduce (``evaluator.evidence_store``)."""


def register_evidence(kind: str) -> Callable[[type], type]:
    """Class decorator: ``kind``'s evidence is this dataclass (its fields: arrays, scalars, tuples)."""
    return EVIDENCE_TYPES.register_with(kind, lambda evidence_type: evidence_type)


def register_metric(
    name: str,
    *,
    tasks: tuple[str, ...],
    evidence: str,
    higher_is_better: bool | None,
    params: type[BaseModel] = NoParams,
    resamples: int = 1000,
    details: Callable[[Any, Any], dict[str, Any]] | None = None,
    interval: Literal["percentile", "jackknife"] = "percentile",
) -> Callable[[Callable[[Any, Any], float]], Callable[[Any, Any], float]]:
    def entry(fn: Callable[[Any, Any], float]) -> MetricDef:
        return MetricDef(name, tasks, evidence, higher_is_better, params, fn, resamples, details, interval)

    return METRICS.register_with(name, entry)
