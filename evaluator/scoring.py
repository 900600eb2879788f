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
``part`` scores one held-out part only (what a phase scores,
``BuiltBenchmark.part``); by default every held-out item counts.

Seeds: the dev kit resamples with the public ``BOOTSTRAP_SEED`` (its split
is public anyway). The server's intervals and paired tests resample with
``statistics_seed(protocol_hash, secret)``, an HMAC of the protocol hash under
the build secret (``datasets.secret``): with a public seed a published
p-value is an exact function of which items each row got right, so two
crafted submissions would tell which of two items carries the label. The
operator, who holds the secret, reproduces every public number.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from datasets.build import BuiltBenchmark, load_built
from datasets.manifest import PROTOCOL_NAME
from datasets.paths import default_data_root
from datasets.secret import find_build_secret, keyed_seed
from datasets.spec import component_params
from evaluator.metrics import METRICS, MetricDef
from evaluator.metrics.intervals import PairedDifference, metric_interval, paired_difference
from evaluator.tasks import Evidences, ScoringOptions, task_of
from evaluator.validation import validate_outputs

CONFIDENCE = 0.95
BOOTSTRAP_SEED = 0
STATISTICS_PURPOSE = "statistics"


class StatisticsSecretError(ValueError):
    """A keyed (server) protocol's public statistics were asked for where no build secret is configured."""


def statistics_seed(protocol_hash: str, secret: str | None) -> int:
    """The seed of a protocol's public intervals and paired tests: ``BOOTSTRAP_SEED`` without a
    secret, else a 256-bit HMAC of ``statistics:<protocol hash>`` under the build secret."""
    return keyed_seed(BOOTSTRAP_SEED, secret, f"{STATISTICS_PURPOSE}:{protocol_hash}")


def server_statistics_seed(protocol_hash: str, data_root: Path, keyed: bool) -> int:
    """``statistics_seed`` with the build secret configured for ``data_root``.

    A keyed protocol (a server split) refuses the public seed: without the
    secret its p-values would say which test items each submission got right.
    """
    secret = find_build_secret(Path(data_root))
    if secret is None and keyed:
        raise StatisticsSecretError(
            f"protocol {protocol_hash[:12]} is a keyed server split but no build secret is configured here "
            f"(set $TOONBENCH_BUILD_SECRET or put the build's .build-secret in {data_root})"
        )
    return statistics_seed(protocol_hash, secret)


def recorded_statistics_seed(data_root: Path, slug: str, protocol_hash: str) -> int:
    """``server_statistics_seed`` of a protocol known only by its hash (the site's comparisons).

    It counts as keyed unless the benchmark built under ``data_root`` is this
    very protocol and its ``protocol.json`` says it is an unkeyed development build.
    """
    record_path = Path(data_root) / slug / PROTOCOL_NAME
    try:
        record = json.loads(record_path.read_text())
    except (OSError, ValueError):
        record = {}
    keyed = record.get("protocol_hash") != protocol_hash or bool(record.get("keyed", False))
    return server_statistics_seed(protocol_hash, data_root, keyed)


@dataclass
class EvaluationResult:
    """Everything a scored submission records.

    ``details`` is keyed by evidence kind (classification, identification,
    verification, generation). ``extractor`` names the FID feature extractor
    and its weights' sha256 (translation only); ``comparable`` is False when
    non-standard weights made the numbers. ``part`` is the held-out part
    scored (None: all of the held-out split). ``evidence`` (kind -> the
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
    part: str | None = None
    evidence: Evidences = field(default_factory=dict, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        record = {item.name: getattr(self, item.name) for item in fields(self) if item.name != "evidence"}
        if self.part is None:
            del record["part"]
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
            part=record.get("part"),
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
    seed: int = BOOTSTRAP_SEED,
    part: str | None = None,
) -> EvaluationResult:
    """Validate ``output_dir``, then compute every metric of the spec (OutputError on bad output).

    ``extractor`` names the FID feature extractor (default: the standard
    pytorch-fid one); ``resamples`` overrides the bootstrap size of every
    leaderboard metric; ``device`` is where embeddings are searched and
    features extracted; ``seed`` draws the intervals' resamples (the server
    passes ``server_statistics_seed``); ``part`` narrows the held-out items
    to one part (``ValueError`` for a part the benchmark lacks).
    """
    built = built.part(part)
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
            ci95[metric.name] = _interval(definition, evidence, params, resamples, seed, metrics[metric.name])
    comparable = True if extractor_record is None else bool(extractor_record["standard"])
    return EvaluationResult(
        slug=built.spec.slug,
        protocol_hash=built.protocol_hash,
        metrics=metrics,
        ci95=ci95,
        details=details,
        extractor=extractor_record,
        comparable=comparable,
        part=part,
        evidence=evidences,
    )


def compare_evidence(fn: str, params: dict[str, Any], first: Evidences, second: Evidences,
                     seed: int = BOOTSTRAP_SEED) -> PairedDifference:
    """The metric ``fn`` (with the spec's ``params``) of ``first`` minus that of ``second``, paired.

    Both results are scored on the same bootstrap resamples (or jackknife
    groups) of the same test items, with the metric's own resample count and
    ``seed`` (the server's: that of the result intervals, ``server_statistics_seed``);
    ``ValueError`` when either lacks the metric's evidence or the two do not
    cover the same items.
    """
    definition = METRICS.get(fn)
    kind = definition.evidence
    if kind not in first or kind not in second:
        raise ValueError(f"a paired test of {fn!r} needs {kind!r} evidence of both results")
    return paired_difference(definition, first[kind], second[kind], component_params(definition.params_model, params),
                             seed=seed, confidence=CONFIDENCE)


def _interval(definition: MetricDef, evidence: Any, params: Any, resamples: int | None, seed: int,
              estimate: float) -> tuple[float, float]:
    lo, hi = metric_interval(
        definition, evidence, params, resamples=resamples, seed=seed, confidence=CONFIDENCE, progress=True,
        estimate=estimate,
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
