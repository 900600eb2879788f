"""Verification: is a pair of faces the same identity? (iCartoonFace protocol)

Similarity of a pair is the cosine of its L2-normalised embeddings; a pair is
accepted ("same") when its similarity is ``>= threshold``.

- ROC and AUC are exactly scikit-learn's ``roc_curve`` (with its default
  ``drop_intermediate=True``) and ``roc_auc_score``; AUC is computed as the
  Mann-Whitney statistic (ties count one half), which equals the trapezoidal
  area under the full ROC curve.
- Best accuracy by k-fold cross-validation: folds are stratified and follow
  the pair list: the same-identity pairs are cut into ``folds`` contiguous
  chunks in list order (``numpy.array_split``), the different-identity pairs
  likewise, and fold ``f`` is chunk ``f`` of each (on LFW's ``pairs.txt``
  that is exactly its ten folds). For each fold the threshold is chosen on
  the other folds: among the cuts between consecutive distinct training
  similarities (plus "accept all" and "reject all") the one with the highest
  training accuracy, the lowest such cut on a tie, placed at the midpoint of
  the two similarities around it. The result is the mean test-fold accuracy
  and its population standard deviation (``ddof=0``) over folds.
- TAR@FAR: the highest true accept rate over all thresholds whose false
  accept rate ``#{different pairs accepted} / #{different pairs}`` is
  ``<= far`` -- the TPR of the last point of the full ROC curve with
  ``FPR <= far``; no interpolation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import Field
from scipy.stats import rankdata

from datasets.components import Params
from evaluator.metrics.base import register_evidence, register_metric
from evaluator.metrics.similarity import dot_rows, unit_rows

MAX_STORED_ROC_POINTS = 500


class FoldsParams(Params):
    folds: int = Field(default=10, ge=2, description="cross-validation folds")


class FarParams(Params):
    far: float = Field(gt=0.0, lt=1.0, description="false accept rate ceiling")


def pair_similarities(embeddings: np.ndarray, index_a: np.ndarray, index_b: np.ndarray
                      ) -> np.ndarray:
    """float64[M]: cosine similarity of rows ``index_a[i]`` and ``index_b[i]``."""
    embeddings = np.asarray(embeddings)
    return dot_rows(unit_rows(embeddings[np.asarray(index_a)]),
                    unit_rows(embeddings[np.asarray(index_b)]))


def _as_pairs(similarities: np.ndarray, same: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    similarities = np.asarray(similarities, dtype=np.float64)
    same = np.asarray(same, dtype=bool)
    if similarities.shape != same.shape or similarities.ndim != 1:
        raise ValueError(f"similarities {similarities.shape} and labels {same.shape} "
                         "must be 1-D of the same length")
    return similarities, same


def _require_both_classes(same: np.ndarray) -> None:
    if same.all() or not same.any():
        raise ValueError("verification needs both same-identity and different-identity pairs")


def _full_roc_counts(similarities: np.ndarray, same: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Accepted positives and negatives at every distinct threshold, highest first."""
    order = np.argsort(similarities, kind="mergesort")[::-1]
    scores, labels = similarities[order], same[order]
    last_of_value = np.r_[np.flatnonzero(np.diff(scores)), labels.size - 1]
    true_accepts = np.cumsum(labels)[last_of_value]
    false_accepts = 1 + last_of_value - true_accepts
    return false_accepts, true_accepts, scores[last_of_value]


def roc_points(similarities: np.ndarray, same: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fpr, tpr, thresholds) exactly as ``sklearn.metrics.roc_curve`` returns them."""
    similarities, same = _as_pairs(similarities, same)
    _require_both_classes(same)
    fps, tps, thresholds = _full_roc_counts(similarities, same)
    if fps.size > 2:
        keep = np.flatnonzero(np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True])
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    fps, tps = np.r_[0, fps], np.r_[0, tps]
    thresholds = np.r_[np.inf, thresholds]
    return fps / fps[-1], tps / tps[-1], thresholds


def auc(similarities: np.ndarray, same: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U / (P·N), ties count one half)."""
    similarities, same = _as_pairs(similarities, same)
    _require_both_classes(same)
    n_pos = int(same.sum())
    n_neg = same.size - n_pos
    rank_sum = rankdata(similarities)[same].sum()
    return float((rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def fold_ids(same: np.ndarray, folds: int) -> np.ndarray:
    """int[M]: each pair's fold, stratified contiguous chunks (module docstring)."""
    same = np.asarray(same, dtype=bool)
    ids = np.empty(same.size, dtype=np.int64)
    for members in (np.flatnonzero(same), np.flatnonzero(~same)):
        for fold, chunk in enumerate(np.array_split(members, folds)):
            ids[chunk] = fold
    return ids


def _best_threshold_sorted(values: np.ndarray, labels: np.ndarray) -> float:
    """Threshold maximising accuracy on pairs sorted by similarity (lowest cut on ties,
    midpoint placed)."""
    rejected_negatives = np.r_[0, np.cumsum(~labels)]
    rejected_positives = np.r_[0, np.cumsum(labels)]
    correct = rejected_negatives + (labels.sum() - rejected_positives)
    is_cut = np.r_[True, values[1:] > values[:-1], True]
    cut = int(np.argmax(np.where(is_cut, correct, -1)))
    if cut == 0:
        return -np.inf
    if cut == values.size:
        return np.inf
    return float((values[cut - 1] + values[cut]) / 2.0)


def kfold_accuracies(similarities: np.ndarray, same: np.ndarray, folds: int = 10) -> np.ndarray:
    """float[folds]: test accuracy of each fold at the threshold chosen on the others."""
    similarities, same = _as_pairs(similarities, same)
    if same.size < folds:
        raise ValueError(f"{folds}-fold cross-validation needs at least {folds} pairs, "
                         f"got {same.size}")
    ids = fold_ids(same, folds)
    order = np.argsort(similarities, kind="stable")  # one sort serves every training set
    sorted_values, sorted_same, sorted_ids = similarities[order], same[order], ids[order]
    accuracies = np.empty(folds)
    for fold in range(folds):
        train = sorted_ids != fold
        threshold = _best_threshold_sorted(sorted_values[train], sorted_same[train])
        test = ids == fold
        accuracies[fold] = np.mean((similarities[test] >= threshold) == same[test])
    return accuracies


def best_accuracy_kfold(similarities: np.ndarray, same: np.ndarray, folds: int = 10
                        ) -> tuple[float, float]:
    """(mean, std) of the k-fold cross-validated best-threshold accuracy."""
    accuracies = kfold_accuracies(similarities, same, folds)
    return float(accuracies.mean()), float(accuracies.std())


def tar_at_far(similarities: np.ndarray, same: np.ndarray, far: float) -> float:
    """Highest true accept rate at a threshold whose false accept rate is <= ``far``."""
    similarities, same = _as_pairs(similarities, same)
    _require_both_classes(same)
    false_accepts, true_accepts, _ = _full_roc_counts(similarities, same)
    n_neg = same.size - int(same.sum())
    allowed = false_accepts / n_neg <= far
    best = int(true_accepts[allowed].max()) if allowed.any() else 0
    return best / int(same.sum())


def _downsample(values: np.ndarray, limit: int) -> np.ndarray:
    if values.size <= limit:
        return values
    return values[np.unique(np.linspace(0, values.size - 1, limit).round().astype(np.int64))]


@register_evidence("verification")
@dataclass(frozen=True)
class VerificationEvidence:
    """Per-pair cosine similarity and whether the pair shows one identity."""

    similarities: np.ndarray
    same: np.ndarray

    def __len__(self) -> int:
        return len(self.same)

    def take(self, indices: np.ndarray) -> VerificationEvidence:
        return VerificationEvidence(self.similarities[indices], self.same[indices])

    def details(self, folds: int = 10) -> dict[str, Any]:
        fpr, tpr, _ = roc_points(self.similarities, self.same)
        keep = _downsample(np.arange(fpr.size), MAX_STORED_ROC_POINTS)
        mean, std = best_accuracy_kfold(self.similarities, self.same, folds)
        return {
            "roc": {"fpr": fpr[keep].tolist(), "tpr": tpr[keep].tolist()},
            "auc": auc(self.similarities, self.same),
            "accuracy_mean": mean,
            "accuracy_std": std,
            "folds": folds,
            "pairs": {"same": int(self.same.sum()), "different": int((~self.same).sum())},
        }


@register_metric("verification_accuracy", tasks=("identification_verification",),
                 evidence="verification", higher_is_better=True, params=FoldsParams)
def verification_accuracy(evidence: VerificationEvidence, params: FoldsParams) -> float:
    """Mean best-threshold accuracy over k cross-validation folds."""
    return best_accuracy_kfold(evidence.similarities, evidence.same, params.folds)[0]


@register_metric("roc_auc", tasks=("identification_verification",), evidence="verification",
                 higher_is_better=True)
def roc_auc(evidence: VerificationEvidence, params: Any) -> float:
    """Area under the ROC curve, as ``sklearn.metrics.roc_auc_score``."""
    return auc(evidence.similarities, evidence.same)


@register_metric("tar_at_far", tasks=("identification_verification",), evidence="verification",
                 higher_is_better=True, params=FarParams)
def tar_at_far_metric(evidence: VerificationEvidence, params: FarParams) -> float:
    """True accept rate at the false accept rate ceiling ``far``."""
    return tar_at_far(evidence.similarities, evidence.same, params.far)
