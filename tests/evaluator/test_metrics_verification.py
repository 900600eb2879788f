"""Verification metrics against scikit-learn and brute force."""

import json

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.metrics.pairwise import cosine_similarity

from evaluator.metrics import METRICS
from evaluator.metrics.verification import (
    VerificationEvidence,
    auc,
    best_accuracy_kfold,
    fold_ids,
    kfold_accuracies,
    pair_similarities,
    roc_points,
    tar_at_far,
)


def random_pairs(n=600, decimals=None, seed=0):
    rng = np.random.default_rng(seed)
    same = rng.random(n) < 0.5
    similarities = np.where(same, 0.4, 0.0) + 0.3 * rng.standard_normal(n)
    if decimals is not None:  # coarse values: many ties
        similarities = similarities.round(decimals)
    return similarities, same


def brute_force_tar(similarities, same, far):
    best = 0.0
    for threshold in np.r_[np.unique(similarities), np.inf]:
        accepted = similarities >= threshold
        if np.mean(accepted[~same]) <= far:
            best = max(best, np.mean(accepted[same]))
    return best


def brute_force_kfold(similarities, same, folds):
    """The documented rule with plain loops: candidate thresholds are -inf, the midpoints
    between consecutive distinct training values, +inf; first (lowest) best one wins."""
    ids = fold_ids(same, folds)
    accuracies = []
    for fold in range(folds):
        train_s, train_y = similarities[ids != fold], same[ids != fold]
        values = np.unique(train_s)
        candidates = [-np.inf] + [(a + b) / 2 for a, b in zip(values[:-1], values[1:])] + [np.inf]
        scores = [np.sum((train_s >= t) == train_y) for t in candidates]
        threshold = candidates[int(np.argmax(scores))]
        test = ids == fold
        accuracies.append(np.mean((similarities[test] >= threshold) == same[test]))
    return np.array(accuracies)


@pytest.mark.parametrize("decimals", [None, 1, 2])
def test_roc_points_equal_sklearn_roc_curve(decimals):
    similarities, same = random_pairs(decimals=decimals)
    for ours, theirs in zip(roc_points(similarities, same), roc_curve(same, similarities)):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("decimals", [None, 1, 2])
def test_auc_equals_sklearn_roc_auc_score(decimals):
    similarities, same = random_pairs(decimals=decimals, seed=1)
    assert auc(similarities, same) == pytest.approx(roc_auc_score(same, similarities), abs=1e-12)


@pytest.mark.parametrize("far", [0.001, 0.01, 0.05, 0.3])
@pytest.mark.parametrize("decimals", [None, 1])
def test_tar_at_far_equals_brute_force_over_all_thresholds(far, decimals):
    similarities, same = random_pairs(n=2000, decimals=decimals, seed=2)
    assert tar_at_far(similarities, same, far) == pytest.approx(
        brute_force_tar(similarities, same, far), abs=1e-15)


def test_tar_at_far_is_zero_when_the_top_negative_ties_every_positive():
    similarities = np.array([0.9, 0.9, 0.9, 0.1, 0.2])
    same = np.array([True, True, False, False, False])
    assert tar_at_far(similarities, same, far=0.1) == 0.0
    assert tar_at_far(similarities, same, far=0.34) == 1.0


def test_ten_fold_accuracy_on_a_constructed_case():
    # ten folds of one positive and one negative each; the positive of fold 3 is an outlier
    same = np.array([True, False] * 10)
    similarities = np.where(same, 0.8, 0.2)
    similarities[6] = 0.1
    # folds != 3 learn the cut 0.5 and score 1.0; fold 3 learns 0.5 and misses its
    # positive: accuracies [1]*9 + [0.5] -> mean 0.95, population std 0.15
    np.testing.assert_array_equal(fold_ids(same, 10), np.repeat(np.arange(10), 2))
    np.testing.assert_allclose(kfold_accuracies(similarities, same, 10), [1.0] * 3 + [0.5]
                               + [1.0] * 6)
    mean, std = best_accuracy_kfold(similarities, same, 10)
    assert mean == pytest.approx(0.95) and std == pytest.approx(0.15)


def test_separable_pairs_score_full_accuracy_in_every_fold():
    same = np.arange(100) % 3 == 0
    similarities = np.where(same, 0.6, 0.4) + np.linspace(0, 0.1, 100)
    assert best_accuracy_kfold(similarities, same, 10) == (1.0, 0.0)


@pytest.mark.parametrize("decimals", [None, 1, 2])
def test_kfold_accuracy_equals_a_loop_over_every_candidate_threshold(decimals):
    similarities, same = random_pairs(n=300, decimals=decimals, seed=4)
    np.testing.assert_allclose(kfold_accuracies(similarities, same, 10),
                               brute_force_kfold(similarities, same, 10))


def test_folds_follow_lfw_blocks_of_positives_then_negatives():
    same = np.tile(np.r_[np.ones(3, bool), np.zeros(3, bool)], 10)
    np.testing.assert_array_equal(fold_ids(same, 10), np.repeat(np.arange(10), 6))


def test_pair_similarities_are_cosines():
    rng = np.random.default_rng(5)
    embeddings = rng.standard_normal((30, 8)).astype(np.float32)
    a, b = rng.integers(0, 30, 50), rng.integers(0, 30, 50)
    expected = cosine_similarity(embeddings.astype(np.float64))[a, b]
    np.testing.assert_allclose(pair_similarities(embeddings, a, b), expected, atol=1e-12)


def test_registered_metrics_and_details():
    similarities, same = random_pairs(n=5000, seed=6)
    evidence = VerificationEvidence(similarities, same)

    def run(name, **params):
        definition = METRICS.get(name)
        return definition.fn(evidence, definition.params_model(**params))

    assert run("roc_auc") == pytest.approx(roc_auc_score(same, similarities))
    assert run("tar_at_far", far=0.01) == pytest.approx(brute_force_tar(similarities, same, 0.01))
    assert run("verification_accuracy") == pytest.approx(
        brute_force_kfold(similarities, same, 10).mean())
    details = json.loads(json.dumps(evidence.details()))
    assert 2 <= len(details["roc"]["fpr"]) <= 500
    assert details["roc"]["fpr"][0] == 0.0 and details["roc"]["tpr"][-1] == 1.0
    assert details["auc"] == pytest.approx(roc_auc_score(same, similarities))


def test_single_class_pairs_are_refused_with_a_reason():
    with pytest.raises(ValueError, match="both same-identity and different-identity"):
        auc(np.array([0.1, 0.2]), np.array([True, True]))
