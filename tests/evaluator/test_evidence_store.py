"""Per-item evidence written to one .npz and read back into the same dataclasses, every field intact."""

from __future__ import annotations

import io
import zipfile
from dataclasses import fields
from typing import Any

import numpy as np
import pytest

from evaluator.evidence_store import EVIDENCE_TYPES, EvidenceError, evidence_bytes, load_evidence
from evaluator.metrics import METRICS
from evaluator.metrics.classification import ClassificationEvidence, TopKParams
from evaluator.metrics.generation import GenerationEvidence, ReferenceParams
from evaluator.metrics.identification import IdentificationEvidence, RankParams
from evaluator.metrics.verification import FarParams, VerificationEvidence
from evaluator.scoring import EvaluationResult, compare_evidence
from evaluator.metrics.intervals import paired_difference

RNG = np.random.default_rng(3)


def every_evidence() -> dict[str, Any]:
    return {
        "classification": ClassificationEvidence(
            RNG.random((30, 4)).astype(np.float32), RNG.integers(0, 4, 30), ("cat", "dog", "owl", "robot")),
        "identification": IdentificationEvidence(
            RNG.integers(1, 60, 25), max_rank=50, distractor_counts=(10, 100),
            correct_at=RNG.random((2, 25)) < 0.5),
        "verification": VerificationEvidence(RNG.normal(size=40), np.arange(40) % 2 == 0),
        "generation": GenerationEvidence(
            RNG.normal(size=(24, 6)), RNG.normal(size=(24, 6)), RNG.normal(size=(30, 6)),
            "inception-v3-pool3", "ab" * 32, False),
    }


def assert_same(first: Any, second: Any) -> None:
    assert type(first) is type(second)
    for item in fields(first):
        mine, theirs = getattr(first, item.name), getattr(second, item.name)
        if isinstance(mine, np.ndarray):
            assert theirs.dtype == mine.dtype and theirs.shape == mine.shape
            np.testing.assert_array_equal(theirs, mine)
        else:
            assert type(theirs) is type(mine) and theirs == mine, item.name


def test_every_evidence_type_is_covered() -> None:
    assert set(every_evidence()) == set(EVIDENCE_TYPES)


@pytest.mark.parametrize("kind", sorted(EVIDENCE_TYPES))
def test_each_evidence_type_round_trips_field_by_field(kind: str) -> None:
    evidence = every_evidence()[kind]
    loaded = load_evidence(evidence_bytes({kind: evidence}))
    assert list(loaded) == [kind]
    assert_same(evidence, loaded[kind])


def test_all_kinds_share_one_archive_keyed_kind_dot_field_and_score_the_same() -> None:
    evidences = every_evidence()
    data = evidence_bytes(evidences)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = sorted(archive.namelist())
    assert "classification.scores.npy" in names and "generation.reference_features.npy" in names
    assert len(names) == sum(len(fields(evidence)) for evidence in evidences.values())
    loaded = load_evidence(data)
    for kind, evidence in evidences.items():
        assert_same(evidence, loaded[kind])
    checks = [("topk_error", TopKParams(k=2)), ("cmc_rank", RankParams(k=5)), ("tar_at_far", FarParams(far=0.1)),
              ("fid", ReferenceParams(reference="cartoon"))]
    for fn, params in checks:
        definition = METRICS.get(fn)
        kind = definition.evidence
        assert definition.fn(loaded[kind], params) == definition.fn(evidences[kind], params)


def test_identification_evidence_without_the_distractor_curve_keeps_its_defaults() -> None:
    evidence = IdentificationEvidence(np.array([1, 3, 2]))
    assert_same(evidence, load_evidence(evidence_bytes({"identification": evidence}))["identification"])


def test_the_paired_test_on_loaded_evidence_equals_the_one_on_the_original() -> None:
    labels = RNG.integers(0, 4, 60)
    first = ClassificationEvidence(RNG.random((60, 4)), labels, ("a", "b", "c", "d"))
    second = ClassificationEvidence(RNG.random((60, 4)), labels, ("a", "b", "c", "d"))
    stored = [load_evidence(evidence_bytes({"classification": e})) for e in (first, second)]
    direct = paired_difference(METRICS.get("topk_error"), first, second, TopKParams(k=1))
    assert compare_evidence("topk_error", {"k": 1}, *stored) == direct
    with pytest.raises(ValueError, match="needs 'verification' evidence"):
        compare_evidence("tar_at_far", {"far": 0.1}, *stored)


def test_evidence_stays_out_of_the_results_json() -> None:
    result = EvaluationResult("toonnet", "h" * 64, {"top1_error": 0.5}, {"top1_error": (0.4, 0.6)},
                              evidence=every_evidence())
    record = result.to_json()
    assert "evidence" not in record and "scores" not in result.dumps()
    assert EvaluationResult.from_json(record).evidence == {}


def test_an_unregistered_kind_or_an_object_array_is_refused_when_writing() -> None:
    with pytest.raises(EvidenceError, match="no registered evidence type for kind 'regression'"):
        evidence_bytes({"regression": VerificationEvidence(np.zeros(2), np.zeros(2, dtype=bool))})
    with pytest.raises(EvidenceError, match="not a plain array"):
        evidence_bytes({"verification": VerificationEvidence(np.array([{}, None], dtype=object), np.zeros(2))})


def test_truncated_corrupt_or_foreign_archives_fail_with_one_line() -> None:
    data = evidence_bytes(every_evidence())
    damaged = [data[: len(data) // 2], data[:100], b"", b"not a zip at all"]
    rng = np.random.default_rng(0)
    for _ in range(100):
        copy = bytearray(data)
        for position in rng.integers(0, len(copy), 4):
            copy[position] ^= 0xFF
        damaged.append(bytes(copy))
    failures = 0
    for blob in damaged:
        try:
            load_evidence(blob)
        except EvidenceError as exc:
            failures += 1
            assert "\n" not in str(exc)
    assert failures >= 4 + 90  # a flipped byte inside a stored name or padding may go unnoticed

    pickled = io.BytesIO()
    np.savez(pickled, **{"classification.scores": np.array([object()], dtype=object)})
    with pytest.raises(EvidenceError, match="unreadable: ValueError"):
        load_evidence(pickled.getvalue())
    foreign = io.BytesIO()
    np.savez(foreign, **{"regression.targets": np.zeros(3)})
    with pytest.raises(EvidenceError, match="unknown kind 'regression'"):
        load_evidence(foreign.getvalue())
    partial = io.BytesIO()
    np.savez(partial, **{"verification.same": np.zeros(3, dtype=bool)})
    with pytest.raises(EvidenceError, match="lacks verification.similarities"):
        load_evidence(partial.getvalue())
