"""Turn a validated output folder into the protocol's numbers.

``score_outputs`` validates the output, has the benchmark's task type
(``evaluator.tasks``) build the evidence each metric family reduces (from
the manifest truth and, for faces, the roles), runs every metric the spec
names with its parameters, adds a seeded 95% interval to every leaderboard
metric (the metric's own kind: percentile bootstrap, or the jackknife for
FID and KID) and keeps each family's details (curves, per-class numbers at
the spec's k) for plots. The site's evaluator and the dev kit both call it.
The result also carries the evidence itself (``evidence``, never part of its
JSON): the site keeps it with the result (``evaluator.evidence_store``) so
that ``compare_evidence`` can test two results on the same test items later.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from datasets.build import BuiltBenchmark, load_built
from datasets.paths import default_data_root
from datasets.spec import component_params
from evaluator.metrics import METRICS, MetricDef
from evaluator.metrics.intervals import PairedDifference, metric_interval, paired_difference
from evaluator.tasks import Evidences, ScoringOptions, task_of
from evaluator.validation import validate_outputs

CONFIDENCE = 0.95
BOOTSTRAP_SEED = 0


@dataclass
class EvaluationResult:
    """Everything a scored submission records.

    ``details`` is keyed by evidence kind (classification, identification,
    verification, generation). ``extractor`` names the FID feature extractor
    and its weights' sha256 (translation only); ``comparable`` is False when
    non-standard weights made the numbers. ``evidence`` (kind -> the
    evidence its metrics reduced) derives from the test truth: it is kept on
    the server and left out of ``to_json``.
    """

    slug: str
    protocol_hash: str
    metrics: dict[str, float]
    ci95: dict[str, tuple[float, float]]
    details: dict[str, dict[str, Any]] = field(default_factory=dict)
    extractor: dict[str, Any] | None = None
    comparable: bool = True
    evidence: Evidences = field(default_factory=dict, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        record = {item.name: getattr(self, item.name) for item in fields(self) if item.name != "evidence"}
        record["ci95"] = {name: [float(lo), float(hi)] for name, (lo, hi) in self.ci95.items()}
        return _plain(record)

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> "EvaluationResult":
        return cls(
            slug=str(record["slug"]),
            protocol_hash=str(record["protocol_hash"]),
            metrics={name: _number(value) for name, value in record["metrics"].items()},
            ci95={name: (_number(lo), _number(hi)) for name, (lo, hi) in record.get("ci95", {}).items()},
            details=dict(record.get("details", {})),
            extractor=record.get("extractor"),
            comparable=bool(record.get("comparable", True)),
        )

    def dumps(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True)


def score(slug: str, output_dir: Path, data_root: Path | None = None, **options: Any) -> EvaluationResult:
    """Score ``output_dir`` against the built benchmark ``slug`` under ``data_root``."""
    built = load_built(slug, Path(data_root) if data_root is not None else default_data_root())
    return score_outputs(built, output_dir, **options)


def score_outputs(
    built: BuiltBenchmark,
    output_dir: Path,
    *,
    extractor: str | None = None,
    resamples: int | None = None,
    device: str | None = None,
) -> EvaluationResult:
    """Validate ``output_dir``, then compute every metric of the spec (OutputError on bad output).

    ``extractor`` names the FID feature extractor (default: the standard
    pytorch-fid one); ``resamples`` overrides the bootstrap size of every
    leaderboard metric; ``device`` is where embeddings are searched and
    features extracted.
    """
    task = task_of(built.spec)
    validated = validate_outputs(built, Path(output_dir))
    evidences, extractor_record = task.evidence(
        built, validated, task.inputs(built), task.references(built), ScoringOptions(extractor, device)
    )

    metrics: dict[str, float] = {}
    ci95: dict[str, tuple[float, float]] = {}
    details = {kind: evidence.details() for kind, evidence in evidences.items()}
    for metric in tqdm(built.spec.metrics, desc="metrics", unit="metric", leave=False):
        definition = METRICS.get(metric.fn)
        params = component_params(definition.params_model, metric.params)
        evidence = evidences[definition.evidence]
        metrics[metric.name] = float(definition.fn(evidence, params))
        if definition.details is not None:
            _merge_details(details[definition.evidence], definition.details(evidence, params))
        if metric.leaderboard:
            ci95[metric.name] = _interval(definition, evidence, params, resamples)
    comparable = True if extractor_record is None else bool(extractor_record["standard"])
    return EvaluationResult(
        slug=built.spec.slug,
        protocol_hash=built.protocol_hash,
        metrics=metrics,
        ci95=ci95,
        details=details,
        extractor=extractor_record,
        comparable=comparable,
        evidence=evidences,
    )


def compare_evidence(fn: str, params: dict[str, Any], first: Evidences, second: Evidences) -> PairedDifference:
    """The metric ``fn`` (with the spec's ``params``) of ``first`` minus that of ``second``, paired.

    Both results are scored on the same bootstrap resamples (or jackknife
    groups) of the same test items, with the metric's own resample count and
    the seed of the result intervals; ``ValueError`` when either lacks the
    metric's evidence or the two do not cover the same items.
    """
    definition = METRICS.get(fn)
    kind = definition.evidence
    if kind not in first or kind not in second:
        raise ValueError(f"a paired test of {fn!r} needs {kind!r} evidence of both results")
    return paired_difference(definition, first[kind], second[kind], component_params(definition.params_model, params),
                             seed=BOOTSTRAP_SEED, confidence=CONFIDENCE)


def _interval(definition: MetricDef, evidence: Any, params: Any, resamples: int | None) -> tuple[float, float]:
    lo, hi = metric_interval(
        definition, evidence, params, resamples=resamples, seed=BOOTSTRAP_SEED, confidence=CONFIDENCE, progress=True
    )
    return float(lo), float(hi)


def _merge_details(target: dict[str, Any], extra: dict[str, Any]) -> None:
    """Add a metric's own details to its evidence kind's: nested dicts are merged one level deep."""
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            target[key].update(value)
        else:
            target[key] = value


def _number(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def _plain(value: Any) -> Any:
    """JSON-ready copy: numpy scalars and arrays become Python numbers and lists."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
