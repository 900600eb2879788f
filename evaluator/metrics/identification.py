"""Identification: rank of each probe's true gallery image, and the CMC curve.

Definition (iCartoonFace): embeddings are L2-normalised, similarity is the
cosine, and a probe's rank counts the competing images at least as similar
as its true gallery image ``t``:

    rank = 1 + #{g != t : s_g >= s_t}

so a tie never helps a submission. In the iCartoonFace protocol the
competitors of a probe are the distractors only (``distractor_ranks``: its
gallery is the distractor set plus its own identity's image; other probe
identities never compete); ``probe_ranks`` ranks against one shared gallery
that holds the true items. ``CMC(k)`` is the share of probes with
``rank <= k``. Ranks beyond ``max_rank`` are reported as ``max_rank + 1``;
the CMC up to ``max_rank`` is exact either way.

The exact counting itself lives in :mod:`evaluator.metrics.ranking`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import Field

from datasets.components import Params
from evaluator.metrics.base import register_evidence, register_metric
from evaluator.metrics.bootstrap import vectorised
from evaluator.metrics.ranking import DEFAULT_MAX_RANK, distractor_ranks

DISTRACTOR_STEPS = (10, 100, 1000)
DISTRACTOR_SUBSET_SEED = 0


class RankParams(Params):
    k: int = Field(ge=1, le=DEFAULT_MAX_RANK, description="CMC rank")


def cmc_curve(ranks: np.ndarray, max_rank: int = DEFAULT_MAX_RANK) -> np.ndarray:
    """float[max_rank]: entry ``k - 1`` is the share of probes with rank <= k."""
    counts = np.bincount(np.minimum(np.asarray(ranks), max_rank + 1), minlength=max_rank + 2)
    return np.cumsum(counts[1:max_rank + 1]) / max(len(ranks), 1)


def distractor_steps(total: int) -> list[int]:
    """Distractor counts of the rank-1 curve: 10, 100, 1,000 ... below ``total``, then ``total``."""
    steps = [count for count in DISTRACTOR_STEPS if count < total]
    return steps + [total] if total else []


def rank1_by_distractor_count(probe_embeddings: np.ndarray, true_embeddings: np.ndarray,
                              distractor_embeddings: np.ndarray, seed: int = DISTRACTOR_SUBSET_SEED,
                              device: str | None = None) -> tuple[list[int], np.ndarray]:
    """The paper's rank-1 against the number of distractors (its Fig. 7c).

    One seeded permutation of the distractors; the subset of size ``n`` is its first ``n``
    (so the subsets are nested and the curve can only fall). Returns the counts and
    bool ``[len(counts), P]``: probe correct at rank 1 against that subset.
    """
    order = np.random.default_rng(seed).permutation(len(distractor_embeddings))
    counts = distractor_steps(len(distractor_embeddings))
    correct = [
        distractor_ranks(probe_embeddings, true_embeddings, distractor_embeddings[order[:count]],
                         max_rank=1, device=device) == 1
        for count in counts
    ]
    return counts, np.array(correct, dtype=bool).reshape(len(counts), len(probe_embeddings))


@register_evidence("identification")
@dataclass(frozen=True)
class IdentificationEvidence:
    """Each probe's rank (from :func:`distractor_ranks`) and the cap those ranks were made with.

    ``distractor_counts`` and ``correct_at`` (bool ``[len(distractor_counts), P]``) hold the
    rank-1 curve over distractor subsets, when it was computed.
    """

    ranks: np.ndarray
    max_rank: int = field(default=DEFAULT_MAX_RANK)
    distractor_counts: tuple[int, ...] = ()
    correct_at: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))

    def __len__(self) -> int:
        return len(self.ranks)

    def take(self, indices: np.ndarray) -> IdentificationEvidence:
        correct_at = self.correct_at[:, indices] if self.distractor_counts else self.correct_at
        return IdentificationEvidence(self.ranks[indices], self.max_rank, self.distractor_counts, correct_at)

    def details(self) -> dict[str, Any]:
        record: dict[str, Any] = {"cmc": cmc_curve(self.ranks, self.max_rank).tolist(), "probes": len(self.ranks)}
        if self.distractor_counts:
            record["rank1_vs_distractors"] = {
                "distractors": list(self.distractor_counts),
                "rank1": self.correct_at.mean(axis=1).tolist() if len(self.ranks) else [0.0] * len(self.distractor_counts),
            }
        return record


def _check_k(evidence: IdentificationEvidence, k: int) -> None:
    if k > evidence.max_rank:
        raise ValueError(f"rank {k} is beyond the ranks computed (max_rank={evidence.max_rank})")


def _cmc_over_resamples(evidence: IdentificationEvidence, params: RankParams,
                        indices: np.ndarray) -> np.ndarray:
    _check_k(evidence, params.k)
    return (evidence.ranks <= params.k)[indices].mean(axis=1)


@register_metric("cmc_rank", tasks=("identification_verification",), evidence="identification",
                 higher_is_better=True, params=RankParams)
@vectorised(_cmc_over_resamples)
def cmc_rank(evidence: IdentificationEvidence, params: RankParams) -> float:
    """CMC(k): share of probes whose true gallery image ranks at k or better."""
    _check_k(evidence, params.k)
    return float(np.mean(evidence.ranks <= params.k))
