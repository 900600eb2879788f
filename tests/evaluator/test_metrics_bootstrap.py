"""Bootstrap intervals against a plain numpy percentile bootstrap."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from evaluator.metrics import METRICS
from evaluator.metrics.bootstrap import bootstrap_ci, bootstrap_values
from evaluator.metrics.classification import ClassificationEvidence
from evaluator.metrics.identification import IdentificationEvidence
from evaluator.metrics.verification import VerificationEvidence


def classification_evidence(n=200, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 5, n)
    scores = rng.random((n, 5))
    scores[np.arange(n), labels] += rng.random(n) * 0.6  # about 70% top-1
    return ClassificationEvidence(scores, labels, tuple("abcde"))


def numpy_bootstrap(per_item, resamples, seed, confidence=0.95):
    """Textbook percentile bootstrap of a mean with the documented draw."""
    rng = np.random.default_rng(seed)
    means = [per_item[rng.integers(0, len(per_item), len(per_item))].mean()
             for _ in range(resamples)]
    alpha = 1 - confidence
    return tuple(np.percentile(means, [100 * alpha / 2, 100 * (1 - alpha / 2)]))


def metric(name, **params):
    definition = METRICS.get(name)
    return definition.fn, definition.params_model(**params)


def test_the_same_seed_gives_the_same_interval_and_another_seed_another():
    fn, params = metric("topk_error", k=1)
    evidence = classification_evidence()
    first = bootstrap_ci(fn, evidence, params, resamples=300, seed=5)
    assert bootstrap_ci(fn, evidence, params, resamples=300, seed=5) == first
    assert bootstrap_ci(fn, evidence, params, resamples=300, seed=6) != first


def test_the_interval_covers_the_point_estimate():
    fn, params = metric("topk_precision", k=1)
    evidence = classification_evidence()
    low, high = bootstrap_ci(fn, evidence, params, resamples=500)
    assert low < fn(evidence, params) < high


def test_top1_interval_matches_a_numpy_percentile_bootstrap():
    fn, params = metric("topk_precision", k=1)
    evidence = classification_evidence(seed=1)
    hits = evidence.scores.argmax(axis=1) == evidence.labels
    expected = numpy_bootstrap(hits.astype(float), 1000, seed=0)
    assert bootstrap_ci(fn, evidence, params) == pytest.approx(expected, abs=1e-12)


def test_cmc_interval_matches_a_numpy_percentile_bootstrap_at_90_percent():
    fn, params = metric("cmc_rank", k=5)
    ranks = np.random.default_rng(2).integers(1, 40, 150)
    expected = numpy_bootstrap((ranks <= 5).astype(float), 400, seed=3, confidence=0.9)
    got = bootstrap_ci(fn, IdentificationEvidence(ranks), params, resamples=400, seed=3,
                       confidence=0.9)
    assert got == pytest.approx(expected, abs=1e-12)


def test_vectorised_and_looped_resampling_give_the_same_values():
    fn, params = metric("topk_error", k=2)
    evidence = classification_evidence(seed=4)
    looped = bootstrap_values(lambda ev, p: fn(ev, p), evidence, params, resamples=50, seed=9)
    np.testing.assert_allclose(bootstrap_values(fn, evidence, params, resamples=50, seed=9),
                               looped, atol=1e-12)


def test_auc_interval_matches_a_loop_over_sklearn():
    rng = np.random.default_rng(5)
    same = rng.random(120) < 0.5
    similarities = same * 0.5 + rng.standard_normal(120)
    fn, params = metric("roc_auc")
    draws = np.random.default_rng(0).integers(0, 120, (200, 120))
    values = [roc_auc_score(same[row], similarities[row]) for row in draws]
    expected = tuple(np.percentile(values, [2.5, 97.5]))
    got = bootstrap_ci(fn, VerificationEvidence(similarities, same), params, resamples=200)
    assert got == pytest.approx(expected, abs=1e-12)


def test_resamples_where_the_metric_is_undefined_are_left_out():
    fn, params = metric("roc_auc")
    evidence = VerificationEvidence(np.array([0.9, 0.1, 0.8]), np.array([True, False, True]))
    values = bootstrap_values(fn, evidence, params, resamples=200)
    assert np.isnan(values).any() and not np.isnan(values).all()
    low, high = bootstrap_ci(fn, evidence, params, resamples=200)
    assert 0.0 <= low <= high <= 1.0
