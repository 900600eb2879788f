"""Probe ranks and CMC against a brute-force numpy count (ties count against the true item)."""

import json

import numpy as np
import pytest

from evaluator.metrics import METRICS
from evaluator.metrics import ranking
from evaluator.metrics.identification import IdentificationEvidence, cmc_curve
from evaluator.metrics.ranking import probe_ranks

ENGINES = ["numpy", "torch", "faiss"]


def reference_ranks(probes, gallery, truth):
    """1 + the other gallery items at least as similar as the true one (float64; ties count against)."""
    p = probes / np.linalg.norm(probes, axis=1, keepdims=True)
    g = gallery / np.linalg.norm(gallery, axis=1, keepdims=True)
    ranks = []
    for i, t in enumerate(truth):
        similarity = np.array([np.dot(p[i], row) for row in g])
        ranks.append(1 + int(np.sum(np.delete(similarity, t) >= np.dot(p[i], g[t]))))
    return np.array(ranks)


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


def near_duplicates_case():
    """Gallery rows that differ from the probe direction by ~1e-6 per entry: their cosines
    differ by ~1e-12, far below float32 resolution, so only the float64 step can order them."""
    rng = np.random.default_rng(5)
    base = rng.standard_normal(32)
    g = rng.standard_normal((120, 32))
    g[40:100] = base + 1e-6 * rng.standard_normal((60, 32))
    g = g.astype(np.float32)
    truth = np.array([40, 55, 70, 99, 3])
    p = np.repeat(base[None].astype(np.float32), len(truth), axis=0)
    p[-1] = g[3]
    return p, g, truth


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 7 probes x 50 gallery items (numpy) and 64 scores (torch), so every case
    spans many blocks and true items sit at block edges."""
    monkeypatch.setattr(ranking, "_PROBES_PER_BLOCK", 7)
    monkeypatch.setattr(ranking, "_GALLERY_PER_BLOCK", 50)
    monkeypatch.setattr(ranking, "_SCORES_PER_TORCH_BLOCK", 64)
    monkeypatch.setattr(ranking, "_PAIRS_PER_CHUNK", 5)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("blocks", ["default", "small"])
@pytest.mark.parametrize("case", [random_case, tied_case, near_duplicates_case])
def test_ranks_equal_a_brute_force_count_where_ties_count_against(case, blocks, engine, request):
    if blocks == "small":
        request.getfixturevalue("small_blocks")
    p, g, truth = case()
    expected = reference_ranks(p.astype(np.float64), g.astype(np.float64), truth)
    np.testing.assert_array_equal(
        probe_ranks(p, g, truth, max_rank=len(g), device="cpu", engine=engine), expected)


def test_near_duplicates_are_ordered_beyond_float32_resolution():
    p, g, truth = near_duplicates_case()
    similarities32 = (p[:1] / np.linalg.norm(p[:1])) @ (g[40:100] / np.linalg.norm(
        g[40:100], axis=1, keepdims=True)).T
    assert np.ptp(similarities32) < 1e-6  # float32 cannot tell these sixty items apart
    ranks = probe_ranks(p, g, truth, max_rank=len(g), device="cpu")
    assert len(set(ranks[:4].tolist())) == 4


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", [random_case, tied_case, near_duplicates_case])
@pytest.mark.parametrize("max_rank", [1, 3, 10])
def test_ranks_beyond_max_rank_are_reported_as_max_rank_plus_one(case, max_rank, engine,
                                                                small_blocks):
    p, g, truth = case() if case is near_duplicates_case else case(seed=1)
    expected = np.minimum(reference_ranks(p.astype(np.float64), g.astype(np.float64), truth),
                          max_rank + 1)
    np.testing.assert_array_equal(
        probe_ranks(p, g, truth, max_rank=max_rank, device="cpu", engine=engine), expected)


def test_a_tie_with_the_true_item_counts_against_it_whatever_the_gallery_order():
    p, g, truth = tied_case()
    ranks = probe_ranks(p[:5], g, truth[:5], device="cpu")
    # probes 0-4 equal gallery row 5 and its ten later copies: all ten rank ahead
    assert ranks.tolist() == [11, 11, 11, 11, 11]
    ranks = probe_ranks(g[170][None], g, np.array([170]), device="cpu")
    assert ranks.tolist() == [4]  # rows 0, 1, 2 are identical copies


def many_copies_case():
    """Eighty exact copies of one vector, more than max_rank for most caps and spread
    over several blocks; true items sit among the copies."""
    rng = np.random.default_rng(11)
    g = rng.choice([-1.0, 1.0], size=(300, 64)).astype(np.float32)
    g[100:180] = g[100]
    truth = np.array([100, 101, 103, 150, 179, 7])
    p = np.repeat(g[100][None], len(truth), axis=0)
    p[-1] = g[7]
    return p, g, truth


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("max_rank", [1, 3, 10, 60, 100])
def test_many_exact_copies_all_rank_ahead_of_the_true_item(max_rank, engine, small_blocks):
    p, g, truth = many_copies_case()
    expected = np.minimum(reference_ranks(p.astype(np.float64), g.astype(np.float64), truth),
                          max_rank + 1)
    assert expected[:5].tolist() == [min(80, max_rank + 1)] * 5
    np.testing.assert_array_equal(probe_ranks(p, g, truth, max_rank, device="cpu",
                                              engine=engine), expected)


def test_embedding_norms_do_not_change_ranks():
    p, g, truth = random_case(seed=2)
    scales = np.random.default_rng(9).uniform(0.1, 10.0, (len(g), 1)).astype(np.float32)
    np.testing.assert_array_equal(probe_ranks(p, g * scales, truth, device="cpu"),
                                  probe_ranks(p, g, truth, device="cpu"))


@pytest.mark.parametrize("engine", ["torch", "faiss"])
@pytest.mark.parametrize("case", [random_case, tied_case])
def test_the_other_engines_give_the_same_ranks_as_numpy(case, engine):
    p, g, truth = case(seed=3)
    for max_rank in (1, 5, 50):
        np.testing.assert_array_equal(
            probe_ranks(p, g, truth, max_rank, device="cpu", engine=engine),
            probe_ranks(p, g, truth, max_rank, device="cpu", engine="numpy"))


def test_ranks_agree_with_float64_counts_on_a_gallery_spanning_many_blocks():
    """Bench-like shapes with the default blocks (two probe blocks, three gallery blocks):
    ranks counted from a float64 BLAS similarity matrix."""
    rng = np.random.default_rng(8)
    g = rng.standard_normal((20000, 64)).astype(np.float32)
    truth = rng.integers(0, len(g), 1100)
    p = (g[truth] + 2.0 * rng.standard_normal((len(truth), 64))).astype(np.float32)
    g64, p64 = g.astype(np.float64), p.astype(np.float64)
    similarities = (p64 / np.linalg.norm(p64, axis=1, keepdims=True)) @ (
        g64 / np.linalg.norm(g64, axis=1, keepdims=True)).T
    true_similarities = similarities[np.arange(len(truth)), truth][:, None]
    expected = np.minimum((similarities > true_similarities).sum(axis=1) + 1, 51)
    assert np.any(expected == 1) and np.any((expected > 1) & (expected < 51))
    assert np.any(expected == 51)
    np.testing.assert_array_equal(probe_ranks(p, g, truth, 50, device="cpu"), expected)
    for engine in ("torch", "faiss"):
        np.testing.assert_array_equal(probe_ranks(p, g, truth, 50, device="cpu", engine=engine),
                                      expected)


def test_faiss_candidates_that_are_all_ties_with_the_true_item_leave_the_probe_uncertified():
    """Probes 0-4 equal the eighty copies: any top-k list of them is all ties with the true
    item, so only a count over the whole gallery ranks them. Probe 5 equals a random +-1 row
    whose nearest other row is far below it, so its list certifies rank 1."""
    p, g, truth = many_copies_case()
    max_rank, depth = 10, 26
    unit_p, unit_g = p / np.linalg.norm(p, axis=1, keepdims=True), g / np.linalg.norm(
        g, axis=1, keepdims=True)
    scores = unit_p @ unit_g.T
    items = np.argsort(-scores, axis=1, kind="stable")[:, :depth]
    true_similarity = scores[np.arange(len(truth)), truth].astype(np.float64)
    low, high = ranking.band_limits(true_similarity, g.shape[1])
    counts, uncertified = ranking.candidate_counts(
        np.take_along_axis(scores, items, axis=1), items, truth, low, high, max_rank,
        whole_gallery=False)
    assert uncertified.tolist() == [0, 1, 2, 3, 4]
    assert counts.above.tolist() == [0] * 6 and counts.band_probe.size == 0


def test_the_faiss_engine_falls_back_to_exact_counts_on_ties(small_blocks):
    p, g, truth = many_copies_case()
    assert probe_ranks(p, g, truth, 10, device="cpu", engine="faiss").tolist() == [
        11, 11, 11, 11, 11, 1]


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


@pytest.mark.parametrize("engine", ["numpy", "faiss"])
def test_it_rejects_the_cpu_engines_on_a_gpu(engine):
    p, g, truth = random_case()
    with pytest.raises(ValueError, match="'numpy' or 'faiss' on 'cpu'"):
        probe_ranks(p, g, truth, device="cuda", engine=engine)


def test_it_rejects_an_unknown_engine():
    p, g, truth = random_case()
    with pytest.raises(ValueError, match="engine 'annoy'"):
        probe_ranks(p, g, truth, device="cpu", engine="annoy")


def test_it_rejects_a_true_index_outside_the_gallery():
    p, g, _ = random_case()
    with pytest.raises(ValueError, match="true_gallery_index"):
        probe_ranks(p, g, np.full(len(p), len(g)), device="cpu")
