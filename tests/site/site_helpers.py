"""Finished submissions for page and API tests, scored by the real evaluator (no worker thread)."""

from __future__ import annotations

import hashlib
import io
import tempfile
import zipfile
from pathlib import Path

import numpy as np
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from benchmarks.models import Benchmark
from datasets.build import BuiltBenchmark
from evaluator.scoring import EvaluationResult, score_outputs
from results.store import save_result
from submissions.models import Status, Submission
from toonnet_outputs import seeded_scores

BOOTSTRAP_RESAMPLES = 200
# Scoring is deterministic: the same scores always give the same result, so score each array once.
_EVALUATIONS: dict[tuple[str, str], EvaluationResult] = {}


def scored(built: BuiltBenchmark, scores: np.ndarray) -> EvaluationResult:
    """The evaluator's result for ``scores`` on ``built`` (computed once per test session)."""
    key = (str(built.folder), hashlib.sha256(scores.astype(np.float32).tobytes()).hexdigest())
    if key not in _EVALUATIONS:
        with tempfile.TemporaryDirectory() as output:
            np.save(Path(output) / "scores.npy", scores.astype(np.float32))
            _EVALUATIONS[key] = score_outputs(built, Path(output), resamples=BOOTSTRAP_RESAMPLES)
    return _EVALUATIONS[key]


def finished_submission(
    owner: AbstractBaseUser,
    benchmark: Benchmark,
    built: BuiltBenchmark,
    scores: np.ndarray | None = None,
    seed: int = 7,
    method: str = "seeded scores",
    is_public: bool = True,
    **fields: object,
) -> Submission:
    """A predictions submission whose scores were scored and stored as a worker would."""
    scores = seeded_scores(built, seed) if scores is None else scores
    submission = Submission.objects.create(
        owner=owner, benchmark=benchmark, protocol=benchmark.current_version(), kind="predictions",
        method_name=method, is_public=is_public, status=Status.FINISHED, finished_at=timezone.now(),
        log_tail=f"log of {method}: secret internals", **fields,
    )
    save_result(submission, scored(built, scores))
    return submission


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def predictions_upload(scores: np.ndarray, name: str = "predictions.zip") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, zip_bytes({"scores.npy": npy_bytes(scores.astype(np.float32))}),
                              content_type="application/zip")
