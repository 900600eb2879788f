"""Exact probe ranks by counting: rank = 1 + #{g != t : s_g >= s_t} (ties count against).

How. A rank only needs counts, not a search: no top-k selection is made.
The similarities ``s_g`` that decide are float64 cosines of the
float64-normalised embeddings, computed by one numpy routine for every
(probe, gallery item) pair that needs one, so equal embeddings always give
equal similarities and an exact tie counts against the true item. The whole
probe x gallery score matrix is only computed in float32, block by block (a
numpy matmul on CPU, a torch matmul on GPU): a float32 cosine of
float32-normalised vectors is within ``delta = 4 (D + 2) 2^-24`` of the
float64 one, so a gallery item scoring above ``s_t + delta`` is surely ahead
of the true item and one scoring below ``s_t - delta`` surely is not. Each
block is compared with those two limits and counted; only the few items in
the band between them (near-ties, duplicates) get a float64 similarity.
Both devices share that exact step, so they give identical ranks.

The ``"faiss"`` engine reaches the same counts another way: an exact faiss
``IndexFlatIP`` search for the top ``max_rank + 16`` float32 scores gives each
probe a candidate list, and the list certifies the rank when it holds the
whole gallery, when its last score lies below the band (every other item is
then surely behind), or when ``max_rank`` of its items are surely ahead. The
list's band pairs go to the same float64 step; a probe whose list certifies
nothing (its last scores are ties with the true item) gets the exact count
over the whole gallery.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from evaluator.metrics.similarity import dot_rows as _dot_rows
from evaluator.metrics.similarity import unit_rows as _unit64

DEFAULT_MAX_RANK = 50
_PROBES_PER_BLOCK = 1024  # with the gallery block: a 32 MB float32 score block on CPU
_GALLERY_PER_BLOCK = 8192
_SCORES_PER_TORCH_BLOCK = 1 << 28
_PAIRS_PER_CHUNK = 8192  # bounds float64 temporaries when settling the band
_FAISS_MARGIN = 16  # candidates past max_rank, so a true item near the cap is still certified
_UNIT_ROUNDOFF_32 = 2.0**-24


def _unit32(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """float32 unit rows, C-contiguous (norms in float32; covered by the error bound).

    ``out``: a float32 buffer with at least ``len(x)`` rows to write into.
    """
    x32 = np.asarray(x, dtype=np.float32)
    norms = np.sqrt(np.einsum("ij,ij->i", x32, x32))
    target = None if out is None else out[:len(x32)]
    return np.divide(x32, np.maximum(norms, np.finfo(np.float32).tiny)[:, None], out=target)


def float32_error_bound(dim: int) -> float:
    """Bound on |float32 cosine - float64 cosine| of ``dim``-d vectors normalised in float32.

    Summation error of a float32 dot product of unit vectors is at most about
    ``dim * u`` (u = 2^-24) whatever the summation order, the float32 norms
    add at most about ``dim * u`` more, and rounding the inputs ``2 u``;
    twice that sum is the margin.
    """
    return 4.0 * (dim + 2) * _UNIT_ROUNDOFF_32


def band_limits(true_similarity: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """float32 ``(low, high)`` per probe: below ``low`` an item is surely behind the true one,
    above ``high`` surely ahead. Rounded outwards so the float32 limits keep that promise."""
    delta = float32_error_bound(dim)
    low = np.nextafter((true_similarity - delta).astype(np.float32), np.float32(-np.inf))
    high = np.nextafter((true_similarity + delta).astype(np.float32), np.float32(np.inf))
    return low, high


def resolve_device(device: str | None) -> str:
    """``None`` means CUDA when torch sees a GPU, else CPU."""
    if device is not None:
        return device
    try:
        import torch
    except ImportError:
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


@dataclass(frozen=True)
class BlockCounts:
    """What one block of float32 scores says about the probes ``first .. first + len(above)``.

    ``above``: items in the block surely ahead of each probe's true item.
    ``band_probe``/``band_gallery``: global indices of the (probe, item) pairs in the band,
    the true items themselves left out; float64 decides those.
    """

    first: int
    above: np.ndarray
    band_probe: np.ndarray
    band_gallery: np.ndarray


def _numpy_blocks(probes32: np.ndarray, gallery: np.ndarray, truth: np.ndarray,
                  low: np.ndarray, high: np.ndarray) -> Iterator[BlockCounts]:
    """Blocked float32 matmul (BLAS) on CPU; two comparisons and two row sums per block.

    Gallery blocks are the outer loop: each is normalised once into a reused buffer
    (no normalised copy of the whole gallery) and scored against every probe block.
    The band is located only in the rows where the counts say it holds more than the
    true item, which on real embeddings is a handful of rows.
    """
    items_buffer = np.empty((min(_GALLERY_PER_BLOCK, len(gallery)), gallery.shape[1]),
                            dtype=np.float32)
    scores_buffer = np.empty((min(_PROBES_PER_BLOCK, len(probes32)), len(items_buffer)),
                             dtype=np.float32)
    for start in range(0, len(gallery), _GALLERY_PER_BLOCK):
        items = _unit32(gallery[start:start + _GALLERY_PER_BLOCK], out=items_buffer)
        for first in range(0, len(probes32), _PROBES_PER_BLOCK):
            rows = slice(first, first + _PROBES_PER_BLOCK)
            lo, hi = low[rows, None], high[rows, None]
            scores = np.matmul(probes32[rows], items.T, out=scores_buffer[:len(lo), :len(items)])
            above = _row_counts(scores > hi)
            in_band = _row_counts(scores >= lo) - above
            own, local = _true_items_in_block(truth[rows], start, len(items))
            true_scores = scores[own, local]
            above[own] -= true_scores > hi[own, 0]
            in_band[own] -= (true_scores >= lo[own, 0]) & (true_scores <= hi[own, 0])
            busy = np.flatnonzero(in_band > 0)
            pair_row, pair_col = np.nonzero((scores[busy] >= lo[busy]) & (scores[busy] <= hi[busy]))
            band_probe, band_gallery = first + busy[pair_row], start + pair_col
            not_true = band_gallery != truth[band_probe]
            yield BlockCounts(first, above, band_probe[not_true], band_gallery[not_true])


def _row_counts(mask: np.ndarray) -> np.ndarray:
    """Per-row number of True entries (summing the bytes into int32 takes about half the
    time of ``count_nonzero(axis=1)``; a block row has far fewer than 2^31 entries)."""
    return mask.view(np.uint8).sum(axis=1, dtype=np.int32)


def _true_items_in_block(truth: np.ndarray, start: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows (within the probe block) whose true item lies in ``start .. start + size``, and
    that item's column in the block."""
    local = truth - start
    own = np.flatnonzero((local >= 0) & (local < size))
    return own, local[own]


def _torch_blocks(probes: np.ndarray, gallery: np.ndarray, truth: np.ndarray,
                  low: np.ndarray, high: np.ndarray, device: str) -> Iterator[BlockCounts]:
    """The same counts as :func:`_numpy_blocks` with torch on ``device`` (CUDA, or CPU in tests).

    TF32 is switched off for the call: its round-off would exceed the error bound. The
    gallery goes to the device once; probe blocks are sized so a score block holds at
    most ``_SCORES_PER_TORCH_BLOCK`` entries (1 GiB of float32).
    """
    import torch
    import torch.nn.functional as F

    previous_precision = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("highest")
    try:
        with torch.inference_mode():
            units = F.normalize(torch.from_numpy(np.asarray(gallery, np.float32)).to(device), dim=1)
            items_per_block = min(len(gallery), _SCORES_PER_TORCH_BLOCK)
            probes_per_block = max(1, _SCORES_PER_TORCH_BLOCK // items_per_block)
            for first in range(0, len(probes), probes_per_block):
                rows = slice(first, first + probes_per_block)
                queries = torch.from_numpy(np.asarray(probes[rows], np.float32)).to(device)
                queries = F.normalize(queries, dim=1)
                lo = torch.from_numpy(low[rows]).to(device)[:, None]
                hi = torch.from_numpy(high[rows]).to(device)[:, None]
                for start in range(0, len(gallery), items_per_block):
                    scores = queries @ units[start:start + items_per_block].T
                    above = (scores > hi).sum(dim=1)
                    band = (scores >= lo) & (scores <= hi)
                    own, local = (torch.from_numpy(index).to(device) for index in
                                  _true_items_in_block(truth[rows], start, scores.shape[1]))
                    above[own] -= (scores[own, local] > hi[own, 0]).long()
                    band[own, local] = False
                    pairs = band.nonzero().cpu().numpy()
                    yield BlockCounts(first, above.cpu().numpy(), first + pairs[:, 0],
                                      start + pairs[:, 1])
    finally:
        torch.set_float32_matmul_precision(previous_precision)


def _faiss_blocks(probes32: np.ndarray, gallery: np.ndarray, truth: np.ndarray,
                  low: np.ndarray, high: np.ndarray, max_rank: int) -> Iterator[BlockCounts]:
    """Counts from an exact faiss ``IndexFlatIP`` search (CPU), then exact counts over the
    whole gallery for the probes whose candidate list could not certify their rank.

    faiss's float32 scores obey the same error bound (it holds whatever the summation
    order), and every item left out of a list scores at most the list's last score.
    """
    import faiss

    index = faiss.IndexFlatIP(gallery.shape[1])
    index.add(_unit32(gallery))
    depth = min(len(gallery), max_rank + _FAISS_MARGIN)
    scores, items = index.search(probes32, depth)
    counts, uncertified = candidate_counts(scores, items, truth, low, high, max_rank,
                                           whole_gallery=depth == len(gallery))
    yield counts
    if len(uncertified):
        yield from _blocks_for_probes(uncertified, probes32, gallery, truth, low, high)


def candidate_counts(scores: np.ndarray, items: np.ndarray, truth: np.ndarray,
                     low: np.ndarray, high: np.ndarray, max_rank: int, whole_gallery: bool
                     ) -> tuple[BlockCounts, np.ndarray]:
    """Counts from each probe's top-k candidates (float32 ``scores`` sorted descending and
    their gallery ``items``), and the probes whose candidates cannot certify the rank.

    A list certifies when it is the whole gallery, when its last score is below ``low``
    (nothing outside it can be ahead or in the band), or when ``max_rank`` of its items
    are surely ahead (the rank is capped whatever lies outside). Uncertified probes get
    no counts here.
    """
    others = items != truth[:, None]
    above = _row_counts((scores > high[:, None]) & others)
    certified = whole_gallery | (scores[:, -1] < low) | (above >= max_rank)
    in_band = (scores >= low[:, None]) & (scores <= high[:, None]) & others
    band_probe, band_column = np.nonzero(in_band & certified[:, None])
    above[~certified] = 0
    return (BlockCounts(0, above, band_probe, items[band_probe, band_column]),
            np.flatnonzero(~certified))


def _blocks_for_probes(rows: np.ndarray, probes32: np.ndarray, gallery: np.ndarray,
                       truth: np.ndarray, low: np.ndarray, high: np.ndarray
                       ) -> Iterator[BlockCounts]:
    """:func:`_numpy_blocks` for the probes ``rows`` only, counts put back at their places."""
    for block in _numpy_blocks(probes32[rows], gallery, truth[rows], low[rows], high[rows]):
        above = np.zeros(len(probes32), dtype=np.int64)
        above[rows[block.first:block.first + len(block.above)]] = block.above
        yield BlockCounts(0, above, rows[block.band_probe], block.band_gallery)


def _ahead_in_band(probes64: np.ndarray, gallery: np.ndarray, true_similarity: np.ndarray,
                   band_probe: np.ndarray, band_gallery: np.ndarray) -> np.ndarray:
    """int[P]: band pairs whose float64 similarity is at least the true one's (ties count ahead)."""
    ahead = np.zeros(len(probes64), dtype=np.int64)
    for start in range(0, len(band_probe), _PAIRS_PER_CHUNK):
        probe = band_probe[start:start + _PAIRS_PER_CHUNK]
        item = band_gallery[start:start + _PAIRS_PER_CHUNK]
        similarity = _dot_rows(probes64[probe], _unit64(gallery[item]))
        target = true_similarity[probe]
        before = similarity >= target
        ahead += np.bincount(probe[before], minlength=len(ahead))
    return ahead


def probe_ranks(probe_embeddings: np.ndarray, gallery_embeddings: np.ndarray,
                true_gallery_index: np.ndarray, max_rank: int = DEFAULT_MAX_RANK,
                device: str | None = None, engine: str | None = None) -> np.ndarray:
    """int[P]: 1-based rank of each probe's true gallery item, capped at ``max_rank + 1``.

    ``device``: ``"cpu"`` or ``"cuda"``/``"cuda:N"``; ``None`` picks CUDA when available.
    ``engine``: ``"numpy"`` (BLAS counts, CPU only), ``"torch"`` (counts, any device) or
    ``"faiss"`` (faiss-cpu candidates, CPU only); ``None`` picks numpy on CPU and torch on
    CUDA. All choices give identical ranks.

    Counting is the default because a rank needs no search: the counting engines pay one
    float32 matmul and two comparisons per score, where a top-k search also keeps a heap
    per probe (see docs/performance.md for the measured difference). The faiss engine is
    for hosts where faiss is the gallery's home anyway, e.g. very large galleries served
    from a faiss index, and as an independent route to the same ranks.
    """
    probes = np.ascontiguousarray(probe_embeddings)
    gallery = np.ascontiguousarray(gallery_embeddings)
    truth = np.asarray(true_gallery_index, dtype=np.int64)
    _check_shapes(probes, gallery, truth, max_rank)
    true_similarity = _dot_rows(_unit64(probes), _unit64(gallery[truth])) if len(probes) else np.empty(0)
    return _counted_ranks(probes, gallery, truth, true_similarity, max_rank, device, engine)


def distractor_ranks(probe_embeddings: np.ndarray, true_embeddings: np.ndarray,
                     distractor_embeddings: np.ndarray, max_rank: int = DEFAULT_MAX_RANK,
                     device: str | None = None, engine: str | None = None) -> np.ndarray:
    """int[P]: rank of each probe's own gallery image (row ``i`` of ``true_embeddings``)
    among it and the distractors: ``1 + #{d : s_d >= s_true}``, capped at ``max_rank + 1``.

    The iCartoonFace rule (the paper's and the official scorer's): a probe is correct at
    rank 1 when its gallery image is closer than every distractor; other probes' gallery
    images never compete. Engines and devices as in :func:`probe_ranks`.
    """
    probes = np.ascontiguousarray(probe_embeddings)
    distractors = np.ascontiguousarray(distractor_embeddings)
    true_items = np.ascontiguousarray(true_embeddings)
    if true_items.shape != probes.shape:
        raise ValueError(f"true gallery embeddings {true_items.shape} must match the probes {probes.shape}")
    no_true_item = np.full(len(probes), -1, dtype=np.int64)
    _check_shapes(probes, distractors, np.zeros(len(probes), dtype=np.int64), max_rank)
    true_similarity = _dot_rows(_unit64(probes), _unit64(true_items)) if len(probes) else np.empty(0)
    return _counted_ranks(probes, distractors, no_true_item, true_similarity, max_rank, device, engine)


def _counted_ranks(probes: np.ndarray, gallery: np.ndarray, truth: np.ndarray,
                   true_similarity: np.ndarray, max_rank: int, device: str | None,
                   engine: str | None) -> np.ndarray:
    """Ranks from the chosen engine; ``truth`` -1 means the true item is not in ``gallery``."""
    device = resolve_device(device)
    engine = engine or ("torch" if device.startswith("cuda") else "numpy")
    if engine not in ("numpy", "torch", "faiss") or (engine != "torch" and device != "cpu"):
        raise ValueError(f"engine {engine!r} on device {device!r}: expected 'torch' on any "
                         "device, or 'numpy' or 'faiss' on 'cpu'")
    if len(probes) == 0:
        return np.empty(0, dtype=np.int64)
    probes64 = _unit64(probes)
    low, high = band_limits(true_similarity, gallery.shape[1])
    if engine == "torch":
        blocks = _torch_blocks(probes, gallery, truth, low, high, device)
    elif engine == "faiss":
        blocks = _faiss_blocks(_unit32(probes), gallery, truth, low, high, max_rank)
    else:
        blocks = _numpy_blocks(_unit32(probes), gallery, truth, low, high)
    return ranks_from_blocks(blocks, probes64, gallery, true_similarity, max_rank)


def ranks_from_blocks(blocks: Iterator[BlockCounts], probes64: np.ndarray, gallery: np.ndarray,
                      true_similarity: np.ndarray, max_rank: int
                      ) -> np.ndarray:
    """Add up the sure counts and the float64 verdicts on the band; cap at ``max_rank + 1``.

    Band pairs of probes already known to rank beyond ``max_rank`` are skipped.
    """
    ahead = np.zeros(len(probes64), dtype=np.int64)
    for block in tqdm(blocks, desc="probe ranks", unit="block", leave=False, disable=None):
        ahead[block.first:block.first + len(block.above)] += block.above
        open_pairs = ahead[block.band_probe] < max_rank
        ahead += _ahead_in_band(probes64, gallery, true_similarity, block.band_probe[open_pairs], block.band_gallery[open_pairs])
    return np.minimum(ahead + 1, max_rank + 1)


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
