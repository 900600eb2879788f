"""Storing a result: its numbers, its evidence file and its ranking rows, idempotently.

A worker may deliver a job twice, so ``save_result`` leaves one result per
submission however often it runs. Once a stored result commits,
``result_stored`` is sent; the leaderboards queue the paired comparisons of
its new neighbours from there (``leaderboards.apps``), so storing a result
never waits on, or imports, the leaderboard.
"""

from __future__ import annotations

import logging
import math
from functools import partial
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.dispatch import Signal

from evaluator.evidence_store import EvidenceError, evidence_bytes
from evaluator.scoring import EvaluationResult
from results.models import MetricValue, PairedComparison, Result, evidence_upload_path
from submissions.models import Submission

logger = logging.getLogger(__name__)

result_stored = Signal()
"""Sent with ``result_id`` once the transaction that stored (or replaced) a result commits."""


def save_result(submission: Submission, evaluation: EvaluationResult) -> Result:
    """Store an ``EvaluationResult``, its evidence file and its ranking rows; running it twice leaves one of each.

    Replacing a result removes its previous evidence file and the paired
    comparisons it took part in (they were made from the old evidence).
    """
    record = evaluation.to_json()
    extractor = record.get("extractor") or {}
    previous = Result.objects.filter(submission=submission).values_list("evidence", flat=True).first()
    evidence = store_evidence(submission, evaluation.evidence)
    try:
        with transaction.atomic():
            result, _ = Result.objects.update_or_create(
                submission=submission,
                defaults={
                    "protocol_hash": record["protocol_hash"],
                    "metrics": record["metrics"],
                    "ci95": record.get("ci95", {}),
                    "details": record.get("details", {}),
                    "extractor_name": str(extractor.get("name", ""))[:100],
                    "extractor_weights_sha256": str(extractor.get("weights_sha256", ""))[:64],
                    "comparable": bool(record.get("comparable", True)),
                    "evidence": evidence,
                },
            )
            PairedComparison.objects.filter(Q(first=result) | Q(second=result)).delete()
            _save_metric_values(submission, result, record)
            transaction.on_commit(partial(result_stored.send, sender=Result, result_id=result.pk))
    except Exception:
        if evidence:
            default_storage.delete(evidence)
        raise
    if previous and previous != evidence:
        default_storage.delete(previous)
    return result


def store_evidence(submission: Submission, evidences: dict[str, Any] | None) -> str:
    """Write the result's per-item evidence under media; its storage name, or "" when there is none.

    Evidence that cannot be written is logged and left out: the result still
    counts, and the leaderboard compares it by interval overlap instead.
    """
    if not evidences:
        return ""
    try:
        data = evidence_bytes(evidences)
    except EvidenceError as exc:
        logger.warning("the result of submission %s is stored without evidence: %s", submission.pk, exc)
        return ""
    name = evidence_upload_path(Result(submission=submission), "evidence.npz")
    return default_storage.save(name, ContentFile(data))


def _save_metric_values(submission: Submission, result: Result, record: dict[str, Any]) -> None:
    MetricValue.objects.filter(result=result).delete()
    MetricValue.objects.bulk_create(
        MetricValue(
            result=result,
            submission=submission,
            benchmark_id=submission.benchmark_id,
            protocol_id=submission.protocol_id,
            name=name,
            value=_finite(value),
            ci_low=_finite((record.get("ci95", {}).get(name) or [None, None])[0]),
            ci_high=_finite((record.get("ci95", {}).get(name) or [None, None])[1]),
        )
        for name, value in record["metrics"].items()
    )


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None
