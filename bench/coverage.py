"""Measured coverage of every metric's 95% interval, by simulation with a known true value.

Each row draws ``REPLICATIONS`` test sets from a model whose true metric value
is known, computes the interval the evaluator reports and counts how often it
holds the true value (and its own estimate). Truths: closed form for AUC,
verification accuracy (two Gaussians of similarity) and FID (two Gaussians of
features; the reference set is fixed, as on the leaderboard, so the truth is
the Fréchet distance to the reference set's Gaussian); a large Monte Carlo
sample for top-k error, CMC rank-k and KID. ``python bench/coverage.py``
prints the table of docs/statistics.md (arguments: replications, resamples).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy.stats import norm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluator.metrics import METRICS  # noqa: E402
from evaluator.metrics.bootstrap import bootstrap_ci  # noqa: E402
from evaluator.metrics.classification import ClassificationEvidence, topk_correct  # noqa: E402
from evaluator.metrics.frechet import frechet_distance, gaussian_stats  # noqa: E402
from evaluator.metrics.generation import GenerationEvidence  # noqa: E402
from evaluator.metrics.identification import IdentificationEvidence  # noqa: E402
from evaluator.metrics.ranking import probe_ranks  # noqa: E402
from evaluator.metrics.intervals import metric_interval  # noqa: E402
from evaluator.metrics.verification import VerificationEvidence  # noqa: E402

REPLICATIONS = int(sys.argv[1]) if len(sys.argv) > 1 else 200
RESAMPLES = int(sys.argv[2]) if len(sys.argv) > 2 else 300
SEED = 2026


def topk_case(rng: np.random.Generator, n: int) -> ClassificationEvidence:
    labels = rng.integers(0, 10, n)
    scores = rng.standard_normal((n, 10)).round(1)  # rounded: ties happen
    scores[np.arange(n), labels] += 1.0
    return ClassificationEvidence(scores, labels, tuple("abcdefghij"))


def cmc_case(rng: np.random.Generator, n: int, gallery: np.ndarray) -> tuple[IdentificationEvidence, float]:
    def ranks(count: int) -> np.ndarray:
        truth = rng.integers(0, len(gallery), count)
        probes = gallery[truth] + 0.9 * rng.standard_normal((count, gallery.shape[1]))
        return probe_ranks(probes, gallery, truth, device="cpu")
    return IdentificationEvidence(ranks(n)), float("nan")


def pairs(rng: np.random.Generator, n: int) -> VerificationEvidence:
    same = np.arange(n) % 2 == 0
    return VerificationEvidence(np.where(same, 0.5, 0.0) + 0.2 * rng.standard_normal(n), same)


def generation(rng: np.random.Generator, n: int, mean: np.ndarray, root: np.ndarray,
               reference: np.ndarray) -> GenerationEvidence:
    outputs = mean + rng.standard_normal((n, len(mean))) @ root.T
    return GenerationEvidence(outputs, outputs, reference, "simulated", "-", False)


def kid_truth(rng: np.random.Generator, mean: np.ndarray, root: np.ndarray, reference: np.ndarray) -> float:
    """Conditional on the fixed reference set: E k(x, x') + mean_{i != j} k(r_i, r_j) - 2 E k(x, r)."""
    d = len(mean)
    x = mean + rng.standard_normal((6000, d)) @ root.T
    k_xx = (x @ x.T / d + 1.0) ** 3
    k_rr = (reference @ reference.T / d + 1.0) ** 3
    k_xr = (x @ reference.T / d + 1.0) ** 3
    within_x = (k_xx.sum() - np.trace(k_xx)) / (len(x) * (len(x) - 1))
    within_r = (k_rr.sum() - np.trace(k_rr)) / (len(reference) * (len(reference) - 1))
    return float(within_x + within_r - 2.0 * k_xr.mean())


def measure(name: str, kind: str, draw, truth: float, params, definition, rng, n: int,
            bootstrap_too: bool = False) -> list[tuple]:
    rows = []
    hits = contains = 0
    old_hits = old_contains = 0
    widths = []
    for _ in range(REPLICATIONS):
        evidence = draw()
        estimate = definition.fn(evidence, params)
        low, high = metric_interval(definition, evidence, params, resamples=RESAMPLES, estimate=estimate)
        hits += low <= truth <= high
        contains += low <= estimate <= high
        widths.append(high - low)
        if bootstrap_too:
            old_low, old_high = bootstrap_ci(definition.fn, evidence, params, resamples=RESAMPLES)
            old_hits += old_low <= truth <= old_high
            old_contains += old_low <= estimate <= old_high
    rows.append((name, kind, n, truth, hits / REPLICATIONS, contains / REPLICATIONS, float(np.mean(widths))))
    print(f"measured {name}", file=sys.stderr, flush=True)
    if bootstrap_too:
        rows.append((name, "percentile (old)", n, truth, old_hits / REPLICATIONS,
                     old_contains / REPLICATIONS, float("nan")))
    return rows


def main() -> None:
    rng = np.random.default_rng(SEED)
    rows = []
    n_items = 300
    top1 = METRICS.get("topk_error")
    big = topk_case(rng, 400_000)
    top1_truth = 1.0 - float(topk_correct(big.scores, big.labels, 1).mean())
    rows += measure("top-1 error", "percentile", lambda: topk_case(rng, n_items), top1_truth,
                    top1.params_model(k=1), top1, rng, n_items)

    gallery = rng.standard_normal((200, 16))
    cmc = METRICS.get("cmc_rank")
    big = cmc_case(rng, 100_000, gallery)[0]
    cmc_truth = float(np.mean(big.ranks <= 5))
    rows += measure("CMC rank-5", "percentile", lambda: cmc_case(rng, n_items, gallery)[0], cmc_truth,
                    cmc.params_model(k=5), cmc, rng, n_items)

    accuracy, roc_auc = METRICS.get("verification_accuracy"), METRICS.get("roc_auc")
    rows += measure("verification accuracy (10-fold)", "percentile", lambda: pairs(rng, 400),
                    float(norm.cdf(0.25 / 0.2)), accuracy.params_model(folds=10), accuracy, rng, 400)
    rows += measure("ROC AUC", "percentile", lambda: pairs(rng, 400), float(norm.cdf(0.5 / (0.2 * np.sqrt(2)))),
                    roc_auc.params_model(), roc_auc, rng, 400)

    d = 8
    factor = rng.standard_normal((d, d)) / np.sqrt(d)
    covariance = 0.5 * np.eye(d) + 0.5 * factor @ factor.T
    root, mean = np.linalg.cholesky(covariance), np.full(d, 0.3)
    reference = rng.standard_normal((1000, d))
    fid, kid = METRICS.get("fid"), METRICS.get("kid")
    fid_truth = frechet_distance(mean, covariance, *gaussian_stats(reference))
    rows += measure("FID", "jackknife", lambda: generation(rng, n_items, mean, root, reference), fid_truth,
                    fid.params_model(reference="cartoon"), fid, rng, n_items, bootstrap_too=True)
    rows += measure("KID", "jackknife", lambda: generation(rng, n_items, mean, root, reference),
                    kid_truth(rng, mean, root, reference),
                    kid.params_model(reference="cartoon", subsets=1), kid, rng, n_items)

    print(f"{REPLICATIONS} replications, nominal 95%, bootstrap resamples {RESAMPLES}, seed {SEED}\n")
    print("| metric | interval | n | true value | coverage | holds its estimate | mean width |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, kind, n, truth, coverage, holds, width in rows:
        width_text = "-" if np.isnan(width) else f"{width:.4f}"
        print(f"| {name} | {kind} | {n} | {truth:.4f} | {coverage:.3f} | {holds:.3f} | {width_text} |")


if __name__ == "__main__":
    main()
