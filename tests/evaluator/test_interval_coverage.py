"""The FID interval on Gaussian features whose true Fréchet distance is known in closed form,
and the paired test between two submissions on the same items."""

import numpy as np
import pytest

from evaluator.metrics import METRICS
from evaluator.metrics.classification import ClassificationEvidence
from evaluator.metrics.frechet import frechet_distance, gaussian_stats
from evaluator.metrics.generation import GenerationEvidence
from evaluator.metrics.bootstrap import bootstrap_ci
from evaluator.metrics.intervals import jackknife_groups, metric_interval, paired_difference
from evaluator.metrics.verification import VerificationEvidence


def test_the_fid_interval_covers_the_closed_form_distance_near_the_nominal_rate():
    rng = np.random.default_rng(7)
    d, n = 4, 150
    reference = rng.standard_normal((400, d))
    mean, scale = np.full(d, 0.4), np.diag([1.0, 0.8, 0.6, 1.2])
    truth = frechet_distance(mean, scale @ scale.T, *gaussian_stats(reference))
    definition = METRICS.get("fid")
    params = definition.params_model(reference="cartoon")
    covered = 0
    for _ in range(200):
        outputs = mean + rng.standard_normal((n, d)) @ scale.T
        evidence = GenerationEvidence(outputs, outputs, reference, "simulated", "-", False)
        low, high = metric_interval(definition, evidence, params)
        assert low <= definition.fn(evidence, params) <= high
        covered += low <= truth <= high
    assert covered / 200 >= 0.85


def test_jackknife_groups_partition_the_items_and_follow_the_seed():
    groups = jackknife_groups(103, 20, seed=3)
    assert len(groups) == 20
    np.testing.assert_array_equal(np.sort(np.concatenate(groups)), np.arange(103))
    assert all(np.array_equal(a, b) for a, b in zip(groups, jackknife_groups(103, 20, seed=3)))


def classification(correct: np.ndarray) -> ClassificationEvidence:
    """Two classes; item i is right at top-1 exactly where ``correct[i]``."""
    labels = np.zeros(len(correct), dtype=np.int64)
    scores = np.where(correct[:, None], [[1.0, 0.0]], [[0.0, 1.0]])
    return ClassificationEvidence(scores, labels, ("a", "b"))


def test_a_paired_difference_of_identical_submissions_is_zero_with_p_one():
    correct = np.random.default_rng(1).random(200) < 0.7
    definition = METRICS.get("topk_error")
    result = paired_difference(definition, classification(correct), classification(correct),
                               definition.params_model(k=1), resamples=500)
    assert (result.difference, result.low, result.high, result.p_value) == (0.0, 0.0, 0.0, 1.0)


def test_the_paired_test_separates_submissions_that_differ_on_the_same_items():
    rng = np.random.default_rng(2)
    a = rng.random(400) < 0.8
    b = a & (rng.random(400) < 0.85)  # b is wrong wherever a is, and on some more items
    definition = METRICS.get("topk_error")
    params = definition.params_model(k=1)
    result = paired_difference(definition, classification(a), classification(b), params, resamples=1000, seed=4)
    assert result.difference == pytest.approx(b.mean() - a.mean())  # error(a) - error(b) < 0
    assert result.high < 0.0 and result.p_value < 0.01
    again = paired_difference(definition, classification(a), classification(b), params, resamples=1000, seed=4)
    assert again == result


def test_a_paired_fid_difference_uses_the_jackknife_and_needs_the_same_items():
    rng = np.random.default_rng(3)
    reference = rng.standard_normal((200, 3))
    near = rng.standard_normal((120, 3))
    far = near + 1.0
    evidence = [GenerationEvidence(x, x, reference, "simulated", "-", False) for x in (near, far)]
    definition = METRICS.get("fid")
    params = definition.params_model(reference="cartoon")
    result = paired_difference(definition, evidence[0], evidence[1], params)
    assert result.method == "jackknife" and result.high < 0 and result.p_value < 0.01
    assert result.low <= result.difference <= result.high
    short = GenerationEvidence(near[:50], near[:50], reference, "simulated", "-", False)
    with pytest.raises(ValueError, match="same test items"):
        paired_difference(definition, evidence[0], short, params)


def test_a_10_fold_accuracy_interval_is_widened_to_hold_its_own_estimate():
    # 40 pairs drawn as bench/coverage.py draws them: the 2.5th percentile of the resampled 10-fold accuracies
    # lies above the estimate (thresholds are chosen on each resample, duplicates included).
    rng = np.random.default_rng(65)
    same = np.arange(40) % 2 == 0
    evidence = VerificationEvidence(np.where(same, 0.5, 0.0) + 0.2 * rng.standard_normal(40), same)
    definition = METRICS.get("verification_accuracy")
    params = definition.params_model(folds=10)
    estimate = definition.fn(evidence, params)
    plain = bootstrap_ci(definition.fn, evidence, params, resamples=200)
    assert estimate == pytest.approx(0.725) and plain[0] == pytest.approx(0.72954, abs=1e-5)  # beside it
    assert metric_interval(definition, evidence, params, resamples=200) == (estimate, plain[1])
