"""Turn a validated output folder into the protocol's numbers.

``score_outputs`` validates the output, builds the evidence each metric
family reduces (from the manifest truth and, for faces, the roles), runs
every metric the spec names with its parameters, adds a seeded 95% bootstrap
interval to every leaderboard metric and keeps each family's details (curves,
per-class numbers) for plots. The site's evaluator and the dev kit both call
it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from datasets.build import BuiltBenchmark, load_built
from datasets.paths import default_data_root
from datasets.spec import component_params
from evaluator.contract import input_items, reference_items
from evaluator.validation import validate_outputs

CONFIDENCE = 0.95
BOOTSTRAP_SEED = 0


@dataclass
class EvaluationResult:
    """Everything a scored submission records.

    ``details`` is keyed by evidence kind (classification, identification,
    verification, generation). ``extractor`` names the FID feature extractor
    and its weights' sha256 (translation only); ``comparable`` is False when
    non-standard weights made the numbers.
    """

    slug: str
    protocol_hash: str
    metrics: dict[str, float]
    ci95: dict[str, tuple[float, float]]
    details: dict[str, dict[str, Any]] = field(default_factory=dict)
    extractor: dict[str, Any] | None = None
    comparable: bool = True

    def to_json(self) -> dict[str, Any]:
        record = asdict(self)
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
    from evaluator.metrics import METRICS

    validated = validate_outputs(built, Path(output_dir))
    extractor_record: dict[str, Any] | None = None
    if built.spec.task == "classification":
        evidences = {"classification": classification_evidence(built, validated)}
    elif built.spec.task == "identification_verification":
        evidences = {
            "identification": identification_evidence(built, validated, device),
            "verification": verification_evidence(built, validated),
        }
    else:
        evidence, extractor_record = generation_evidence(built, validated, extractor, device)
        evidences = {"generation": evidence}

    metrics: dict[str, float] = {}
    ci95: dict[str, tuple[float, float]] = {}
    for metric in tqdm(built.spec.metrics, desc="metrics", unit="metric", leave=False):
        definition = METRICS.get(metric.fn)
        params = component_params(definition.params_model, metric.params)
        evidence = evidences[definition.evidence]
        metrics[metric.name] = float(definition.fn(evidence, params))
        if metric.leaderboard:
            ci95[metric.name] = _bootstrap(definition, evidence, params, resamples)
    comparable = True if extractor_record is None else bool(extractor_record["standard"])
    return EvaluationResult(
        slug=built.spec.slug,
        protocol_hash=built.protocol_hash,
        metrics=metrics,
        ci95=ci95,
        details={kind: evidence.details() for kind, evidence in evidences.items()},
        extractor=extractor_record,
        comparable=comparable,
    )


def classification_evidence(built: BuiltBenchmark, scores: np.ndarray) -> Any:
    """Scores with each item's true class index (its position in spec.classes)."""
    from evaluator.metrics.classification import ClassificationEvidence

    class_index = {name: index for index, name in enumerate(built.spec.classes)}
    labels = np.array([class_index[item.label] for item in input_items(built)], dtype=np.int64)
    return ClassificationEvidence(scores, labels, tuple(built.spec.classes))


def identification_evidence(built: BuiltBenchmark, embeddings: np.ndarray, device: str | None) -> Any:
    """Each probe's rank of its identity's gallery image among all gallery images."""
    from evaluator.metrics.identification import IdentificationEvidence, probe_ranks

    roles = _roles(built)
    row, identity = _rows_and_identities(built)
    gallery_positions: dict[str, list[int]] = {}
    for position, item_id in enumerate(roles.gallery):
        gallery_positions.setdefault(identity[item_id], []).append(position)
    true_gallery_index = []
    for probe in roles.probes:
        positions = gallery_positions.get(identity[probe], [])
        if len(positions) != 1:
            raise ValueError(
                f"{built.folder}/roles.json: probe {probe!r} has {len(positions)} gallery images of its identity, "
                "expected exactly 1; rebuild the benchmark"
            )
        true_gallery_index.append(positions[0])
    probes = embeddings[[row[item_id] for item_id in roles.probes]]
    gallery = embeddings[[row[item_id] for item_id in roles.gallery]]
    ranks = probe_ranks(probes, gallery, np.array(true_gallery_index, dtype=np.int64), device=device)
    return IdentificationEvidence(ranks)


def verification_evidence(built: BuiltBenchmark, embeddings: np.ndarray) -> Any:
    """Cosine similarity of every roles.pairs pair, with whether it is a same-identity pair."""
    from evaluator.metrics.verification import VerificationEvidence, pair_similarities

    roles = _roles(built)
    row, _ = _rows_and_identities(built)
    index_a = np.array([row[a] for a, _, _ in roles.pairs], dtype=np.int64)
    index_b = np.array([row[b] for _, b, _ in roles.pairs], dtype=np.int64)
    same = np.array([bool(s) for _, _, s in roles.pairs], dtype=bool)
    return VerificationEvidence(pair_similarities(embeddings, index_a, index_b), same)


def generation_evidence(
    built: BuiltBenchmark, outputs: list[Path], extractor_name: str | None, device: str | None
) -> tuple[Any, dict[str, Any]]:
    """Features of the outputs, the input photos and the reference cartoons, from one extractor."""
    from evaluator.metrics.generation import GenerationEvidence, load_extractor

    if extractor_name is None:
        extractor = load_extractor(device=device, progress=True)
    else:
        extractor = load_extractor(extractor_name, device=device, progress=True)
    photos = [built.folder / item.path for item in input_items(built)]
    cartoons = [built.folder / item.path for item in reference_items(built)]
    evidence = GenerationEvidence(
        output_features=extractor(outputs),
        photo_features=extractor(photos),
        reference_features=extractor(cartoons),
        extractor_name=extractor.name,
        weights_sha256=extractor.weights_sha256,
        standard=extractor.standard,
    )
    record = {"name": extractor.name, "weights_sha256": extractor.weights_sha256, "standard": bool(extractor.standard)}
    return evidence, record


def _bootstrap(definition: Any, evidence: Any, params: Any, resamples: int | None) -> tuple[float, float]:
    from evaluator.metrics.bootstrap import bootstrap_ci

    count = resamples if resamples is not None else definition.resamples
    lo, hi = bootstrap_ci(
        definition.fn, evidence, params, resamples=count, seed=BOOTSTRAP_SEED, confidence=CONFIDENCE, progress=True
    )
    return float(lo), float(hi)


def _roles(built: BuiltBenchmark) -> Any:
    if built.roles is None:
        raise FileNotFoundError(f"{built.folder}/roles.json: missing; rebuild the benchmark")
    return built.roles


def _rows_and_identities(built: BuiltBenchmark) -> tuple[dict[str, int], dict[str, str]]:
    """Embedding row of each test id (manifest order) and each test id's identity."""
    items = input_items(built)
    return {item.id: row for row, item in enumerate(items)}, {item.id: str(item.identity) for item in items}


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
