"""Top-k classification metrics (ToonNet top-k error, illustration top-k precision).

Definition: a test item is correct at ``k`` when its true class is among the
``k`` highest scores, ties broken by class index (lower index first). That is
the item's true class sits at a position ``< k`` of the stable ordering of
classes by ``(-score, class index)``. Equivalently, with ``t`` the true class,
the number of classes ahead of it,

    ahead = #{c : s_c > s_t} + #{c < t : s_c == s_t},

is below ``k``. Computing ``ahead`` directly is exact and O(N·C).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import Field

from datasets.components import Params
from evaluator.metrics import register_metric
from evaluator.metrics.bootstrap import vectorised

DETAIL_KS = (1, 3, 5)


class TopKParams(Params):
    k: int = Field(ge=1, description="how many of the highest scores count as a hit")


def classes_ahead(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """For each item, how many classes rank before its true class (0 = top-1 hit)."""
    scores = np.asarray(scores)
    labels = np.asarray(labels, dtype=np.int64)
    true_scores = np.take_along_axis(scores, labels[:, None], axis=1)
    higher = (scores > true_scores).sum(axis=1)
    lower_index = np.arange(scores.shape[1])[None, :] < labels[:, None]
    tied_before = ((scores == true_scores) & lower_index).sum(axis=1)
    return higher + tied_before


def topk_correct(scores: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """bool[N]: the true class is among the ``k`` best (ties by lower class index)."""
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
    """int[C, C]: rows are true classes, columns top-1 predictions (as scikit-learn)."""
    predicted = np.argmax(scores, axis=1)  # first maximum = lowest index among ties
    flat = np.asarray(labels, dtype=np.int64) * n_classes + predicted
    return np.bincount(flat, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


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
        n_classes = len(self.class_names)
        per_class = {
            f"top{k}": _nan_to_none(per_class_topk(self.scores, self.labels, k, n_classes))
            for k in sorted({min(k, n_classes) for k in DETAIL_KS})
        }
        return {
            "class_names": list(self.class_names),
            "confusion_matrix": confusion_matrix(self.scores, self.labels, n_classes).tolist(),
            "per_class_precision": per_class,
            "support": np.bincount(self.labels, minlength=n_classes).tolist(),
        }


def _nan_to_none(values: np.ndarray) -> list[float | None]:
    return [None if np.isnan(v) else float(v) for v in values]


def _correct_over_resamples(
    evidence: ClassificationEvidence, params: TopKParams, indices: np.ndarray
) -> np.ndarray:
    """Top-k precision of every resample at once: the mean of per-item hits."""
    correct = topk_correct(evidence.scores, evidence.labels, params.k)
    return correct[indices].mean(axis=1)


@register_metric("topk_precision", tasks=("classification",), evidence="classification",
                 higher_is_better=True, params=TopKParams)
@vectorised(_correct_over_resamples)
def topk_precision(evidence: ClassificationEvidence, params: TopKParams) -> float:
    """Share of test items whose true class is among the k best scores."""
    return float(topk_correct(evidence.scores, evidence.labels, params.k).mean())


def _error_over_resamples(
    evidence: ClassificationEvidence, params: TopKParams, indices: np.ndarray
) -> np.ndarray:
    return 1.0 - _correct_over_resamples(evidence, params, indices)


@register_metric("topk_error", tasks=("classification",), evidence="classification",
                 higher_is_better=False, params=TopKParams)
@vectorised(_error_over_resamples)
def topk_error(evidence: ClassificationEvidence, params: TopKParams) -> float:
    """1 - top-k precision."""
    return 1.0 - topk_precision(evidence, params)
