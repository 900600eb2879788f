"""Top-k metrics against hand-worked cases, a brute-force reading of the tie rule and scikit-learn.

The tie rule: a class whose score ties the true class's counts as ranked above
it, so ties never help a submission (they used to go to the lower class index,
which made a result depend on the order of the classes).
"""

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

# Four classes; every row below is worked out by hand in the comments (a tie counts ahead).
TIED_SCORES = np.array([
    [0.5, 0.5, 0.1, 0.0],  # label 1: class 0 ties -> 2nd
    [0.5, 0.5, 0.1, 0.0],  # label 0: class 1 ties -> 2nd (the lower index no longer wins)
    [0.2, 0.2, 0.2, 0.2],  # label 3: all tied, three classes ahead -> 4th
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


def brute_force_correct(scores, labels, k):
    """The rule read literally, one item at a time: sort the classes by score, best first,
    putting every class tied with the true class before it; correct when the true class is
    among the first k."""
    correct = []
    for row, label in zip(scores, labels):
        order = sorted(range(len(row)), key=lambda c: (-row[c], c == label))
        correct.append(order.index(label) < k)
    return np.array(correct)


def test_a_tie_with_the_true_class_counts_against_it():
    assert topk_correct(TIED_SCORES, TIED_LABELS, 1).tolist() == [False, False, False, False, True]
    assert topk_correct(TIED_SCORES, TIED_LABELS, 2).tolist() == [True, True, False, True, True]
    assert topk_correct(TIED_SCORES, TIED_LABELS, 3).tolist() == [True, True, False, True, True]
    assert topk_correct(TIED_SCORES, TIED_LABELS, 4).all()


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("k", [1, 2, 3, 6, 7])
def test_it_matches_a_brute_force_reading_of_the_rule_on_integer_scores(seed, k):
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 3, size=(400, 7)).astype(np.float32)  # mostly ties
    labels = rng.integers(0, 7, 400)
    np.testing.assert_array_equal(topk_correct(scores, labels, k), brute_force_correct(scores, labels, k))


def test_the_result_does_not_depend_on_the_order_of_the_classes():
    rng = np.random.default_rng(4)
    scores = rng.integers(0, 4, size=(300, 6)).astype(np.float64)
    labels = rng.integers(0, 6, 300)
    permutation = rng.permutation(6)
    relabelled = np.argsort(permutation)[labels]
    for k in (1, 2, 5):
        np.testing.assert_array_equal(topk_correct(scores, labels, k),
                                      topk_correct(scores[:, permutation], relabelled, k))


@pytest.mark.parametrize("k", [1, 3, 4, 5])
def test_a_constant_submission_gets_error_one_below_the_class_count_and_zero_from_it(k):
    labels = np.random.default_rng(2).integers(0, 4, 50)
    evidence = ClassificationEvidence(np.full((50, 4), 0.25), labels, ("a", "b", "c", "d"))
    assert metric("topk_error", evidence, k=k) == (1.0 if k < 4 else 0.0)


def test_registered_metrics_give_the_hand_worked_error_and_precision():
    evidence = ClassificationEvidence(TIED_SCORES, TIED_LABELS, ("a", "b", "c", "d"))
    assert metric("topk_precision", evidence, k=1) == pytest.approx(1 / 5)
    assert metric("topk_error", evidence, k=1) == pytest.approx(4 / 5)
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


def test_confusion_matrix_sends_a_tied_top_score_to_another_class_so_its_diagonal_is_top1():
    expected = np.zeros((4, 4), dtype=int)
    for true, predicted in [(1, 0), (0, 1), (3, 0), (2, 1), (0, 0)]:
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
    assert np.isnan(values[4]) and values[0] == 0.5


def test_details_hold_the_confusion_matrix_and_each_metric_adds_per_class_precision_at_its_k():
    evidence = ClassificationEvidence(TIED_SCORES, TIED_LABELS, ("a", "b", "c", "d"))
    details = json.loads(json.dumps(evidence.details()))
    assert details["per_class_precision"] == {}
    assert details["support"] == [2, 1, 1, 1]
    assert np.sum(details["confusion_matrix"]) == 5
    definition = METRICS.get("topk_error")
    added = definition.details(evidence, definition.params_model(k=2))
    assert added == {"per_class_precision": {"top2": [1.0, 1.0, 1.0, 0.0]}}


def test_take_resamples_rows_of_scores_and_labels_together():
    evidence = ClassificationEvidence(TIED_SCORES, TIED_LABELS, ("a", "b", "c", "d"))
    taken = evidence.take(np.array([4, 4, 2]))
    assert len(taken) == 3
    np.testing.assert_array_equal(taken.labels, [0, 0, 3])
    np.testing.assert_array_equal(taken.scores[2], TIED_SCORES[2])
