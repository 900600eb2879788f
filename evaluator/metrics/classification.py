"""Top-k classification metrics (ToonNet top-k error, illustration top-k precision).

Definition: a test item is correct at ``k`` when fewer than ``k`` other
classes rank ahead of its true class, and a class whose score ties the true
class's counts as ranked above it (ties never help). With ``t`` the true
class,

    ahead = #{c != t : s_c >= s_t},

and the item is correct at ``k`` when ``ahead < k``. The result therefore
never depends on the order of the classes, and a submission that gives every
class the same score has top-k error 1 for every ``k < C`` (and 0 for
``k >= C``, where every class is in the top k). Computing ``ahead`` directly
is exact and O(N·C).

Per-class details are kept for each ``k`` the protocol's top-k metrics use
(each metric adds its own ``top{k}`` entry through ``per_class_details``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import Field

from datasets.components import Params
from evaluator.metrics.base import register_evidence, register_metric
from evaluator.metrics.bootstrap import vectorised

class TopKParams(Params):
    k: int = Field(ge=1, description="how many of the highest scores count as a hit")


def classes_ahead(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """For each item, how many other classes score at least its true class's score (0 = top-1 hit)."""
    scores = np.asarray(scores)
    labels = np.asarray(labels, dtype=np.int64)
    true_scores = np.take_along_axis(scores, labels[:, None], axis=1)
    return (scores >= true_scores).sum(axis=1) - 1


def topk_correct(scores: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """bool[N]: fewer than ``k`` other classes score at least the true class's score."""
    return classes_ahead(scores, labels) < k


def per_class_topk(scores: np.ndarray, labels: np.ndarray, k: int, n_classes: int) -> np.ndarray:
    """float[C]: top-k precision of the items of each true class (NaN for a class with no item)."""
    correct = topk_correct(scores, labels, k)
    labels = np.asarray(labels, dtype=np.int64)
    hits = np.bincount(labels, weights=correct, minlength=n_classes)
    counts = np.bincount(labels, minlength=n_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, hits / np.maximum(counts, 1), np.nan)


def confusion_matrix(scores: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """int[C, C]: rows are true classes, columns top-1 predictions (as scikit-learn).

    The prediction is the highest-scoring class; when the true class shares the
    highest score with others, the prediction is the lowest-index other one, so
    the diagonal counts exactly the top-1 hits of the tie rule.
    """
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    others = scores.copy()
    np.put_along_axis(others, labels[:, None], -np.inf, axis=1)
    true_scores = np.take_along_axis(scores, labels[:, None], axis=1)[:, 0]
    predicted = np.where(true_scores > others.max(axis=1), labels, np.argmax(others, axis=1))
    flat = labels * n_classes + predicted
    return np.bincount(flat, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


@register_evidence("classification")
@dataclass(frozen=True)
class ClassificationEvidence:
    """Scores ``[N, C]`` in manifest order, true class indices ``[N]``, class names."""

    scores: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, indices: np.ndarray) -> ClassificationEvidence:
        return ClassificationEvidence(self.scores[indices], self.labels[indices], self.class_names)

    def details(self) -> dict[str, Any]:
        """Confusion matrix and support; each top-k metric adds its per-class rates."""
        n_classes = len(self.class_names)
        return {
            "class_names": list(self.class_names),
            "confusion_matrix": confusion_matrix(self.scores, self.labels, n_classes).tolist(),
            "per_class_precision": {},
            "support": np.bincount(self.labels, minlength=n_classes).tolist(),
        }


def per_class_details(evidence: ClassificationEvidence, params: TopKParams) -> dict[str, Any]:
    """``{"per_class_precision": {"top{k}": [...]}}`` for the metric's own ``k``."""
    rates = per_class_topk(evidence.scores, evidence.labels, params.k, len(evidence.class_names))
    return {"per_class_precision": {f"top{params.k}": _nan_to_none(rates)}}


def _nan_to_none(values: np.ndarray) -> list[float | None]:
    return [None if np.isnan(v) else float(v) for v in values]


def _correct_over_resamples(
    evidence: ClassificationEvidence, params: TopKParams, indices: np.ndarray
) -> np.ndarray:
    """Top-k precision of every resample at once: the mean of per-item hits."""
    correct = topk_correct(evidence.scores, evidence.labels, params.k)
    return correct[indices].mean(axis=1)


@register_metric("topk_precision", tasks=("classification",), evidence="classification",
                 higher_is_better=True, params=TopKParams, details=per_class_details)
@vectorised(_correct_over_resamples)
def topk_precision(evidence: ClassificationEvidence, params: TopKParams) -> float:
    """Share of test items whose true class is among the k best scores."""
    return float(topk_correct(evidence.scores, evidence.labels, params.k).mean())


def _error_over_resamples(
    evidence: ClassificationEvidence, params: TopKParams, indices: np.ndarray
) -> np.ndarray:
    return 1.0 - _correct_over_resamples(evidence, params, indices)


@register_metric("topk_error", tasks=("classification",), evidence="classification",
                 higher_is_better=False, params=TopKParams, details=per_class_details)
@vectorised(_error_over_resamples)
def topk_error(evidence: ClassificationEvidence, params: TopKParams) -> float:
    """1 - top-k precision."""
    return 1.0 - topk_precision(evidence, params)
