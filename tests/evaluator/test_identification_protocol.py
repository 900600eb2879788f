"""Per-probe galleries (iCartoonFace): ranks against the distractors plus the probe's own image,
checked against a brute-force numpy implementation of the official rule written here."""

import numpy as np
import pytest

from evaluator.metrics import ranking
from evaluator.metrics.identification import (
    IdentificationEvidence,
    distractor_ranks,
    distractor_steps,
    rank1_by_distractor_count,
)

ENGINES = ["numpy", "torch", "faiss"]


def official_rank(probe, true_item, distractors):
    """1 + the number of distractors whose cosine with the probe is >= the true image's."""
    def cosine(a, b):
        return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))

    target = cosine(probe, true_item)
    return 1 + sum(cosine(probe, d) >= target for d in distractors)


def random_case(seed=0, probes=30, distractors=200, dim=16):
    rng = np.random.default_rng(seed)
    own = rng.standard_normal((probes, dim))
    p = own + 0.9 * rng.standard_normal((probes, dim))
    d = rng.standard_normal((distractors, dim))
    return p.astype(np.float32), own.astype(np.float32), d.astype(np.float32)


def tied_case():
    """+-1 entries: cosines are exact multiples of 1/32; distractors copying the true image tie it."""
    rng = np.random.default_rng(3)
    own = rng.choice([-1.0, 1.0], size=(20, 64))
    d = rng.choice([-1.0, 1.0], size=(150, 64))
    d[:4] = own[0]  # four exact ties with probe 0's true image
    d[10] = own[1]
    flips = rng.random((20, 64)) < 0.25
    p = np.where(flips, -own, own)
    p[2] = own[2]  # probe identical to its gallery image
    return p.astype(np.float32), own.astype(np.float32), d.astype(np.float32)


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(ranking, "_PROBES_PER_BLOCK", 7)
    monkeypatch.setattr(ranking, "_GALLERY_PER_BLOCK", 50)
    monkeypatch.setattr(ranking, "_SCORES_PER_TORCH_BLOCK", 64)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", [random_case, tied_case])
def test_ranks_equal_the_brute_force_official_rule(case, engine, small_blocks):
    p, own, d = case()
    expected = [official_rank(p[i].astype(np.float64), own[i].astype(np.float64), d.astype(np.float64))
                for i in range(len(p))]
    got = distractor_ranks(p, own, d, max_rank=len(d) + 1, device="cpu", engine=engine)
    np.testing.assert_array_equal(got, expected)


def test_a_distractor_that_ties_the_true_image_ranks_above_it():
    p, own, d = tied_case()
    ranks = distractor_ranks(p, own, d, max_rank=len(d) + 1, device="cpu")
    assert ranks[0] >= 5  # four copies of its true image each count ahead
    assert ranks[1] >= 2
    assert ranks[2] == 1 + int(np.sum(d @ own[2] >= 64))  # similarity 1: only exact copies tie


def test_other_probes_gallery_images_never_compete():
    """Probe 0's gallery image is identical to probe 1: under a shared gallery probe 1 would
    lose to it; per-probe galleries leave probe 1 at rank 1."""
    own = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=np.float32)
    probes = np.array([[0.9, 0.1, 0.0], [1.0, 0.0, 0.0]], dtype=np.float32)
    probes[1] = [0.2, 1.0, 0.0]
    own[0] = probes[1]
    d = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0]], dtype=np.float32)
    assert distractor_ranks(probes, own, d, device="cpu").tolist() == [1, 1]


def test_rank1_against_distractor_count_uses_nested_seeded_subsets():
    p, own, d = random_case(seed=1, probes=40, distractors=1500)
    counts, correct = rank1_by_distractor_count(p, own, d, seed=7, device="cpu")
    assert counts == [10, 100, 1000, 1500]
    order = np.random.default_rng(7).permutation(len(d))
    for row, count in enumerate(counts):
        subset = d[order[:count]].astype(np.float64)
        expected = [official_rank(p[i].astype(np.float64), own[i].astype(np.float64), subset) == 1
                    for i in range(len(p))]
        assert correct[row].tolist() == expected
    rates = correct.mean(axis=1)
    assert all(a >= b for a, b in zip(rates, rates[1:]))


def test_the_curve_is_a_detail_and_follows_resampling():
    correct = np.array([[True, True, False], [True, False, False]])
    evidence = IdentificationEvidence(np.array([1, 2, 9]), distractor_counts=(10, 25), correct_at=correct)
    assert evidence.details()["rank1_vs_distractors"] == {"distractors": [10, 25], "rank1": [2 / 3, 1 / 3]}
    taken = evidence.take(np.array([0, 0, 2]))
    assert taken.details()["rank1_vs_distractors"]["rank1"] == [2 / 3, 2 / 3]


def test_distractor_steps_are_capped_at_what_the_protocol_has():
    assert distractor_steps(2500) == [10, 100, 1000, 2500]
    assert distractor_steps(100) == [10, 100]
    assert distractor_steps(7) == [7]


@pytest.mark.gpu
@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("case", [random_case, tied_case])
def test_gpu_and_cpu_agree_on_per_probe_ranks(case):
    p, own, d = case()
    for max_rank in (1, 5, 50):
        np.testing.assert_array_equal(distractor_ranks(p, own, d, max_rank, device="cuda"),
                                      distractor_ranks(p, own, d, max_rank, device="cpu"))
