"""Probe ranks and CMC against a brute-force numpy argsort."""

import json

import numpy as np
import pytest

from evaluator.metrics import METRICS
from evaluator.metrics.identification import (
    IdentificationEvidence,
    _ranks_from_candidates,
    _search_torch,
    cmc_curve,
    probe_ranks,
)


def reference_ranks(probes, gallery, truth):
    """Stable argsort of -cosine over the whole gallery, float64."""
    p = probes / np.linalg.norm(probes, axis=1, keepdims=True)
    g = gallery / np.linalg.norm(gallery, axis=1, keepdims=True)
    order = np.argsort(-(p @ g.T), axis=1, kind="stable")
    return np.array([np.flatnonzero(row == t)[0] + 1 for row, t in zip(order, truth)])


def random_case(probes=40, gallery=300, dim=16, seed=0):
    rng = np.random.default_rng(seed)
    g = rng.standard_normal((gallery, dim)).astype(np.float32)
    truth = rng.integers(0, gallery, probes)
    p = (g[truth] + 0.8 * rng.standard_normal((probes, dim))).astype(np.float32)
    return p, g, truth


def tied_case(seed=0):
    """Entries +-1 in 64-d: every cosine is a multiple of 1/32, computed exactly in any
    order, so many exact ties; plus exact duplicates of some true gallery rows."""
    rng = np.random.default_rng(seed)
    g = rng.choice([-1.0, 1.0], size=(200, 64)).astype(np.float32)
    g[150:160] = g[5]  # ten copies of gallery row 5, all after it
    g[0:3] = g[170]  # three copies of row 170, all before it
    truth = np.r_[np.full(10, 5), np.full(10, 170), rng.integers(0, 200, 30)]
    flips = rng.random((50, 64)) < 0.3
    p = np.where(flips, -g[truth], g[truth]).astype(np.float32)
    p[:5] = g[truth[:5]]  # probes identical to their true row
    return p, g, truth


@pytest.mark.parametrize("case", [random_case, tied_case])
def test_ranks_equal_a_stable_argsort_of_the_whole_gallery(case):
    p, g, truth = case()
    expected = reference_ranks(p.astype(np.float64), g.astype(np.float64), truth)
    np.testing.assert_array_equal(probe_ranks(p, g, truth, max_rank=len(g), device="cpu"),
                                  expected)


@pytest.mark.parametrize("case", [random_case, tied_case])
@pytest.mark.parametrize("max_rank", [1, 3, 10])
def test_ranks_beyond_max_rank_are_reported_as_max_rank_plus_one(case, max_rank):
    p, g, truth = case(seed=1)
    expected = np.minimum(reference_ranks(p.astype(np.float64), g.astype(np.float64), truth),
                          max_rank + 1)
    np.testing.assert_array_equal(probe_ranks(p, g, truth, max_rank=max_rank, device="cpu"),
                                  expected)


def test_a_tie_with_the_true_item_goes_to_the_lower_gallery_index():
    p, g, truth = tied_case()
    ranks = probe_ranks(p[:5], g, truth[:5], device="cpu")
    # probes 0-4 equal gallery row 5; its ten copies come later, so it is first
    assert ranks.tolist() == [1, 1, 1, 1, 1]
    ranks = probe_ranks(g[170][None], g, np.array([170]), device="cpu")
    assert ranks.tolist() == [4]  # rows 0, 1, 2 are identical copies with lower indices


def many_copies_case():
    """Eighty exact copies of one vector, more than the search keeps as candidates, so the
    search cannot tell which copies come first; true items sit among the copies."""
    rng = np.random.default_rng(11)
    g = rng.choice([-1.0, 1.0], size=(300, 64)).astype(np.float32)
    g[100:180] = g[100]
    truth = np.array([100, 101, 103, 150, 179, 7])
    p = np.repeat(g[100][None], len(truth), axis=0)
    p[-1] = g[7]
    return p, g, truth


@pytest.mark.parametrize("max_rank", [1, 3, 10, 60, 100])
def test_ties_across_the_candidate_boundary_are_ranked_over_the_whole_gallery(max_rank):
    p, g, truth = many_copies_case()
    expected = np.minimum(reference_ranks(p.astype(np.float64), g.astype(np.float64), truth),
                          max_rank + 1)
    assert expected[:5].tolist() == [min(r, max_rank + 1) for r in (1, 2, 4, 51, 80)]
    np.testing.assert_array_equal(probe_ranks(p, g, truth, max_rank, device="cpu"), expected)
    candidates, boundary = _search_torch(p, g, max_rank + 16, "cpu")
    np.testing.assert_array_equal(
        _ranks_from_candidates(p, g, truth, candidates, boundary, max_rank), expected)


def test_embedding_norms_do_not_change_ranks():
    p, g, truth = random_case(seed=2)
    scales = np.random.default_rng(9).uniform(0.1, 10.0, (len(g), 1)).astype(np.float32)
    np.testing.assert_array_equal(probe_ranks(p, g * scales, truth, device="cpu"),
                                  probe_ranks(p, g, truth, device="cpu"))


@pytest.mark.parametrize("case", [random_case, tied_case])
def test_the_torch_search_gives_the_same_ranks_as_faiss(case):
    p, g, truth = case(seed=3)
    max_rank = 5
    candidates, boundary = _search_torch(p, g, max_rank + 16, "cpu",
                                         max_scores_in_memory=4096)
    ranks = _ranks_from_candidates(p, g, truth, candidates, boundary, max_rank)
    np.testing.assert_array_equal(ranks, probe_ranks(p, g, truth, max_rank, device="cpu"))


@pytest.mark.gpu
@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("case", [random_case, tied_case])
def test_gpu_and_cpu_paths_agree_on_every_rank(case):
    p, g, truth = case(seed=4)
    for max_rank in (1, 5, 50):
        np.testing.assert_array_equal(probe_ranks(p, g, truth, max_rank, device="cuda"),
                                      probe_ranks(p, g, truth, max_rank, device="cpu"))


def test_cmc_curve_is_the_share_of_ranks_at_or_below_each_k():
    ranks = np.array([1, 2, 2, 5, 51, 7])
    expected = [np.mean(ranks <= k) for k in range(1, 51)]
    np.testing.assert_allclose(cmc_curve(ranks), expected)


def test_cmc_rank_metric_and_details_use_the_ranks():
    evidence = IdentificationEvidence(np.array([1, 1, 3, 12, 51]))
    definition = METRICS.get("cmc_rank")
    assert definition.fn(evidence, definition.params_model(k=1)) == pytest.approx(0.4)
    assert definition.fn(evidence, definition.params_model(k=10)) == pytest.approx(0.6)
    details = json.loads(json.dumps(evidence.details()))
    assert len(details["cmc"]) == 50 and details["cmc"][-1] == pytest.approx(0.8)


def test_cmc_rank_refuses_a_rank_beyond_the_computed_ranks():
    evidence = IdentificationEvidence(np.array([1, 2, 6]), max_rank=5)
    definition = METRICS.get("cmc_rank")
    with pytest.raises(ValueError, match="max_rank=5"):
        definition.fn(evidence, definition.params_model(k=10))


def test_it_rejects_a_true_index_outside_the_gallery():
    p, g, _ = random_case()
    with pytest.raises(ValueError, match="true_gallery_index"):
        probe_ranks(p, g, np.full(len(p), len(g)), device="cpu")
