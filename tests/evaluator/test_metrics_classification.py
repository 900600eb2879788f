"""Top-k metrics against hand-worked cases and scikit-learn."""

import json

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix as sk_confusion_matrix
from sklearn.metrics import top_k_accuracy_score

from evaluator.metrics import METRICS
from evaluator.metrics.classification import (
    ClassificationEvidence,
    confusion_matrix,
    per_class_topk,
    topk_correct,
)

# Four classes; every row below is worked out by hand in the comments.
TIED_SCORES = np.array([
    [0.5, 0.5, 0.1, 0.0],  # label 1: class 0 ties and has the lower index -> 2nd
    [0.5, 0.5, 0.1, 0.0],  # label 0: wins the tie -> 1st
    [0.2, 0.2, 0.2, 0.2],  # label 3: all tied, three lower indices ahead -> 4th
    [0.1, 0.9, 0.9, 0.3],  # label 2: class 1 ties ahead -> 2nd
    [0.7, 0.1, 0.2, 0.3],  # label 0: clear winner -> 1st
])
TIED_LABELS = np.array([1, 0, 3, 2, 0])


def random_case(n=300, classes=7, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, classes)), rng.integers(0, classes, n)


def metric(name, evidence, **params):
    definition = METRICS.get(name)
    return definition.fn(evidence, definition.params_model(**params))


def test_it_breaks_score_ties_by_lower_class_index():
    assert topk_correct(TIED_SCORES, TIED_LABELS, 1).tolist() == [False, True, False, False, True]
    assert topk_correct(TIED_SCORES, TIED_LABELS, 2).tolist() == [True, True, False, True, True]
    assert topk_correct(TIED_SCORES, TIED_LABELS, 3).tolist() == [True, True, False, True, True]
    assert topk_correct(TIED_SCORES, TIED_LABELS, 4).all()


def test_registered_metrics_give_the_hand_worked_error_and_precision():
    evidence = ClassificationEvidence(TIED_SCORES, TIED_LABELS, ("a", "b", "c", "d"))
    assert metric("topk_precision", evidence, k=1) == pytest.approx(2 / 5)
    assert metric("topk_error", evidence, k=1) == pytest.approx(3 / 5)
    assert metric("topk_precision", evidence, k=2) == pytest.approx(4 / 5)
    assert metric("topk_error", evidence, k=3) == pytest.approx(1 / 5)


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_it_matches_sklearn_top_k_accuracy_without_ties(k):
    scores, labels = random_case()
    expected = top_k_accuracy_score(labels, scores, k=k, labels=np.arange(7))
    assert topk_correct(scores, labels, k).mean() == pytest.approx(expected)


def test_confusion_matrix_matches_sklearn_on_top1_predictions():
    scores, labels = random_case()
    expected = sk_confusion_matrix(labels, scores.argmax(axis=1), labels=np.arange(7))
    np.testing.assert_array_equal(confusion_matrix(scores, labels, 7), expected)


def test_confusion_matrix_sends_a_tied_top_score_to_the_lower_class():
    expected = np.zeros((4, 4), dtype=int)
    for true, predicted in [(1, 0), (0, 0), (3, 0), (2, 1), (0, 0)]:
        expected[true, predicted] += 1
    np.testing.assert_array_equal(confusion_matrix(TIED_SCORES, TIED_LABELS, 4), expected)


@pytest.mark.parametrize("k", [1, 3])
def test_per_class_precision_matches_sklearn_per_class(k):
    scores, labels = random_case()
    expected = [top_k_accuracy_score(labels[labels == c], scores[labels == c], k=k,
                                     labels=np.arange(7)) for c in range(7)]
    np.testing.assert_allclose(per_class_topk(scores, labels, k, 7), expected)


def test_per_class_top1_is_the_confusion_diagonal_over_row_sums():
    scores, labels = random_case(seed=3)
    matrix = sk_confusion_matrix(labels, scores.argmax(axis=1), labels=np.arange(7))
    np.testing.assert_allclose(per_class_topk(scores, labels, 1, 7),
                               matrix.diagonal() / matrix.sum(axis=1))


def test_a_class_without_test_items_has_no_per_class_precision():
    values = per_class_topk(TIED_SCORES, TIED_LABELS, 1, 5)
    assert np.isnan(values[4]) and values[0] == 1.0


def test_details_hold_the_confusion_matrix_and_per_class_precision_for_capped_k():
    evidence = ClassificationEvidence(TIED_SCORES, TIED_LABELS, ("a", "b", "c", "d"))
    details = json.loads(json.dumps(evidence.details()))
    assert set(details["per_class_precision"]) == {"top1", "top3", "top4"}
    assert details["per_class_precision"]["top1"] == [1.0, 0.0, 0.0, 0.0]
    assert details["per_class_precision"]["top4"] == [1.0, 1.0, 1.0, 1.0]
    assert details["support"] == [2, 1, 1, 1]
    assert np.sum(details["confusion_matrix"]) == 5


def test_take_resamples_rows_of_scores_and_labels_together():
    evidence = ClassificationEvidence(TIED_SCORES, TIED_LABELS, ("a", "b", "c", "d"))
    taken = evidence.take(np.array([4, 4, 2]))
    assert len(taken) == 3
    np.testing.assert_array_equal(taken.labels, [0, 0, 3])
    np.testing.assert_array_equal(taken.scores[2], TIED_SCORES[2])
