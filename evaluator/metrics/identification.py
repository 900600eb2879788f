"""Identification: rank of each probe's true gallery image, and the CMC curve.

Definition (iCartoonFace): embeddings are L2-normalised, similarity is the
cosine, and a probe's rank is the 1-based position of its true gallery image
in the stable ordering of all gallery images by ``(-similarity, gallery
index)``, i.e.

    rank = 1 + #{g : s_g > s_t} + #{g < t : s_g == s_t}

with ``t`` the true gallery index. ``CMC(k)`` is the share of probes with
``rank <= k``. Ranks beyond ``max_rank`` are reported as ``max_rank + 1``;
the CMC up to ``max_rank`` is exact either way.

Exactness. The search runs in float32 (faiss ``IndexFlatIP`` on CPU, a
chunked torch matmul plus ``topk`` on GPU) and only proposes candidates: the
``max_rank + CANDIDATE_MARGIN`` best gallery items per probe. The ranks are
then decided on float64 similarities of the float64-normalised embeddings,
computed by one numpy routine for every (probe, gallery item) pair it needs,
so equal embeddings always give equal similarities and ties fall to the
lower gallery index in both paths. A float32 dot product of unit vectors is
within ``delta = 4 (D + 2) 2^-24`` of the float64 one, so when the true
item's float64 similarity exceeds the last candidate's float32 score by
more than ``delta`` no item outside the candidates can be ahead of it. The
rare probes where that does not settle the rank (the true item sits at the
candidate boundary and fewer than ``max_rank`` candidates beat it) are
ranked by brute force over the whole gallery in float64.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import Field

from datasets.components import Params
from evaluator.metrics import register_metric
from evaluator.metrics.bootstrap import vectorised

DEFAULT_MAX_RANK = 50
CANDIDATE_MARGIN = 16
_ROWS_PER_CHUNK = 65536  # bounds float64 temporaries in the brute-force fallback
_UNIT_ROUNDOFF_32 = 2.0**-24


class RankParams(Params):
    k: int = Field(ge=1, le=DEFAULT_MAX_RANK, description="CMC rank")


def _unit64(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm in float64 (an all-zero row stays zero)."""
    x64 = np.asarray(x, dtype=np.float64)
    norms = np.sqrt(_dot_rows(x64, x64))
    return x64 / np.maximum(norms, np.finfo(np.float64).tiny)[..., None]


def _unit32(x: np.ndarray) -> np.ndarray:
    """float32 unit rows for the search (norms in float32; covered by the error bound)."""
    x32 = np.asarray(x, dtype=np.float32)
    norms = np.sqrt(np.einsum("ij,ij->i", x32, x32))
    return x32 / np.maximum(norms, np.finfo(np.float32).tiny)[:, None]


def _dot_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot products; the single routine behind every float64 similarity."""
    return (a * b).sum(axis=-1)


def float32_error_bound(dim: int) -> float:
    """Bound on |float32 cosine - float64 cosine| of ``dim``-d vectors normalised in float32.

    Summation error of a float32 dot product of unit vectors is at most about
    ``dim * u`` (u = 2^-24), the float32 norms add at most about ``dim * u``
    more, and rounding the inputs ``2 u``; twice that sum is the margin.
    """
    return 4.0 * (dim + 2) * _UNIT_ROUNDOFF_32


def resolve_device(device: str | None) -> str:
    """``None`` means CUDA when torch sees a GPU, else CPU."""
    if device is not None:
        return device
    try:
        import torch
    except ImportError:
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


def _search_faiss(probes: np.ndarray, gallery: np.ndarray, n_candidates: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Top candidates by float32 cosine (faiss exact inner-product search) and the last score."""
    import faiss

    index = faiss.IndexFlatIP(gallery.shape[1])
    index.add(_unit32(gallery))
    scores, candidates = index.search(_unit32(probes), n_candidates)
    return candidates.astype(np.int64), scores[:, -1].astype(np.float64)


def _search_torch(probes: np.ndarray, gallery: np.ndarray, n_candidates: int, device: str,
                  max_scores_in_memory: int = 1 << 28) -> tuple[np.ndarray, np.ndarray]:
    """The same as :func:`_search_faiss` with a chunked float32 torch matmul + ``topk``.

    TF32 is switched off for the call: its round-off would exceed the error bound.
    """
    import torch
    import torch.nn.functional as F

    previous_precision = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("highest")
    try:
        with torch.inference_mode():
            units = F.normalize(torch.from_numpy(np.asarray(gallery, np.float32)).to(device), dim=1)
            chunk = max(1, max_scores_in_memory // max(1, len(gallery)))
            candidates, boundary = [], []
            for start in range(0, len(probes), chunk):
                queries = torch.from_numpy(np.asarray(probes[start:start + chunk], np.float32))
                queries = F.normalize(queries.to(device), dim=1)
                scores, indices = torch.topk(queries @ units.T, n_candidates, dim=1)
                candidates.append(indices.cpu().numpy())
                boundary.append(scores[:, -1].double().cpu().numpy())
    finally:
        torch.set_float32_matmul_precision(previous_precision)
    return np.concatenate(candidates).astype(np.int64), np.concatenate(boundary)


def _brute_force_ahead(probe: np.ndarray, gallery: np.ndarray, true_index: int,
                       true_similarity: float) -> int:
    """Gallery items ahead of the true one, over the whole gallery in float64."""
    ahead = 0
    for start in range(0, len(gallery), _ROWS_PER_CHUNK):
        similarities = _dot_rows(_unit64(gallery[start:start + _ROWS_PER_CHUNK]), probe[None, :])
        indices = np.arange(start, start + len(similarities))
        before = (similarities > true_similarity) | (
            (similarities == true_similarity) & (indices < true_index))
        ahead += int(before.sum())
    return ahead


def _ranks_from_candidates(probes: np.ndarray, gallery: np.ndarray, true_index: np.ndarray,
                           candidates: np.ndarray, boundary: np.ndarray, max_rank: int,
                           chunk: int = 256) -> np.ndarray:
    """Exact (capped) ranks from float32 candidates; see the module docstring."""
    whole_gallery = candidates.shape[1] == len(gallery)
    delta = float32_error_bound(gallery.shape[1])
    ranks = np.empty(len(probes), dtype=np.int64)
    for start in range(0, len(probes), chunk):
        stop = start + chunk
        probe64 = _unit64(probes[start:stop])
        truth = true_index[start:stop]
        cands = candidates[start:stop]
        true_sim = _dot_rows(probe64, _unit64(gallery[truth]))
        cand_sim = _dot_rows(probe64[:, None, :], _unit64(gallery[cands]))
        ahead = (cand_sim > true_sim[:, None]) | (
            (cand_sim == true_sim[:, None]) & (cands < truth[:, None]))
        ahead &= cands != truth[:, None]
        count = ahead.sum(axis=1)
        settled = whole_gallery | (true_sim > boundary[start:stop] + delta) | (count >= max_rank)
        for row in np.flatnonzero(~settled):
            count[row] = _brute_force_ahead(probe64[row], gallery, int(truth[row]), true_sim[row])
        ranks[start:stop] = np.minimum(count + 1, max_rank + 1)
    return ranks


def probe_ranks(probe_embeddings: np.ndarray, gallery_embeddings: np.ndarray,
                true_gallery_index: np.ndarray, max_rank: int = DEFAULT_MAX_RANK,
                device: str | None = None) -> np.ndarray:
    """int[P]: 1-based rank of each probe's true gallery item, capped at ``max_rank + 1``.

    ``device``: ``"cpu"`` searches with faiss, ``"cuda"``/``"cuda:N"`` with torch;
    ``None`` picks CUDA when available. Both give identical ranks.
    """
    probes = np.ascontiguousarray(probe_embeddings)
    gallery = np.ascontiguousarray(gallery_embeddings)
    truth = np.asarray(true_gallery_index, dtype=np.int64)
    _check_shapes(probes, gallery, truth, max_rank)
    if len(probes) == 0:
        return np.empty(0, dtype=np.int64)
    n_candidates = min(len(gallery), max_rank + CANDIDATE_MARGIN)
    device = resolve_device(device)
    if device.startswith("cuda"):
        candidates, boundary = _search_torch(probes, gallery, n_candidates, device)
    else:
        candidates, boundary = _search_faiss(probes, gallery, n_candidates)
    return _ranks_from_candidates(probes, gallery, truth, candidates, boundary, max_rank)


def _check_shapes(probes: np.ndarray, gallery: np.ndarray, truth: np.ndarray, max_rank: int
                  ) -> None:
    if probes.ndim != 2 or gallery.ndim != 2 or probes.shape[1] != gallery.shape[1]:
        raise ValueError(f"probe embeddings {probes.shape} and gallery embeddings "
                         f"{gallery.shape} must be 2-D with the same width")
    if len(gallery) == 0:
        raise ValueError("the gallery is empty")
    if truth.shape != (len(probes),):
        raise ValueError(f"true_gallery_index has shape {truth.shape}, expected ({len(probes)},)")
    if truth.size and (truth.min() < 0 or truth.max() >= len(gallery)):
        raise ValueError(f"true_gallery_index must lie in [0, {len(gallery)})")
    if max_rank < 1:
        raise ValueError(f"max_rank must be >= 1, got {max_rank}")


def cmc_curve(ranks: np.ndarray, max_rank: int = DEFAULT_MAX_RANK) -> np.ndarray:
    """float[max_rank]: entry ``k - 1`` is the share of probes with rank <= k."""
    counts = np.bincount(np.minimum(np.asarray(ranks), max_rank + 1), minlength=max_rank + 2)
    return np.cumsum(counts[1:max_rank + 1]) / max(len(ranks), 1)


@dataclass(frozen=True)
class IdentificationEvidence:
    """Each probe's rank (from :func:`probe_ranks`) and the cap those ranks were made with."""

    ranks: np.ndarray
    max_rank: int = field(default=DEFAULT_MAX_RANK)

    def __len__(self) -> int:
        return len(self.ranks)

    def take(self, indices: np.ndarray) -> IdentificationEvidence:
        return IdentificationEvidence(self.ranks[indices], self.max_rank)

    def details(self) -> dict[str, Any]:
        return {"cmc": cmc_curve(self.ranks, self.max_rank).tolist(), "probes": len(self.ranks)}


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
