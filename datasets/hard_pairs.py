"""Hard verification pairs for icartoonface (DESIGN.md §1).

Following iCartoonFace, positives are the least similar same-identity pairs
and negatives the most similar different-identity pairs, under a simple,
fixed image feature: the face box resized to 16x16 in Lab plus an HSV colour
histogram, each part L2-normalised, concatenated and L2-normalised again;
similarity is the cosine. Similarities are rounded to 6 decimals before
ranking (ties broken by item index, i.e. by id) so that last-bit differences
between BLAS builds cannot change the frozen protocol.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from datasets.manifest import ManifestItem

THUMBNAIL_SIZE = 16
HISTOGRAM_BINS = (8, 4, 4)
DECIMALS = 6
BLOCK_ROWS = 512


def face_feature(image: np.ndarray, box: tuple[int, int, int, int] | None) -> np.ndarray:
    """Feature of one face image (BGR); ``box`` selects the face, None = whole image."""
    if box is not None:
        x1, y1, x2, y2 = box
        face = image[max(0, y1):y2, max(0, x1):x2]
        image = face if face.size else image
    thumbnail = cv2.resize(image, (THUMBNAIL_SIZE, THUMBNAIL_SIZE), interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(thumbnail, cv2.COLOR_BGR2LAB).astype(np.float64).ravel() / 255.0
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    histogram = cv2.calcHist([hsv], [0, 1, 2], None, list(HISTOGRAM_BINS), [0, 180, 0, 256, 0, 256])
    parts = [_unit(lab), _unit(histogram.astype(np.float64).ravel())]
    return _unit(np.concatenate(parts))


def face_features(items: list[ManifestItem], folder: Path) -> np.ndarray:
    """``[len(items), D]`` float64 L2-normalised features, rows in ``items`` order."""
    rows = []
    for item in tqdm(items, desc="face features", unit="img", disable=None):
        image = cv2.imread(str(folder / item.path), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"{folder / item.path}: cannot read image for item {item.id}")
        rows.append(face_feature(image, item.box))
    return np.stack(rows)


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(vector)
    return vector / norm if norm > 0 else vector


def similarity(features: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    return np.round(features[rows] @ features[cols].T, DECIMALS)


def group_indices(identities: list[str]) -> dict[str, np.ndarray]:
    """identity -> indices of its items, in index order."""
    groups: dict[str, list[int]] = {}
    for index, identity in enumerate(identities):
        groups.setdefault(identity, []).append(index)
    return {identity: np.array(indices) for identity, indices in sorted(groups.items())}


def positive_candidates(features: np.ndarray, identities: list[str]) -> list[tuple[float, int, int]]:
    """Every same-identity pair ``(similarity, i, j)`` with ``i < j``."""
    candidates = []
    for indices in group_indices(identities).values():
        if len(indices) < 2:
            continue
        block = similarity(features, indices, indices)
        upper_rows, upper_cols = np.triu_indices(len(indices), k=1)
        candidates.extend(
            (float(block[r, c]), int(indices[r]), int(indices[c])) for r, c in zip(upper_rows, upper_cols)
        )
    return candidates


def hardest_positives(features: np.ndarray, identities: list[str], count: int) -> list[tuple[int, int]]:
    """The ``count`` least similar same-identity pairs (ties: lower indices first)."""
    chosen = sorted(positive_candidates(features, identities))[:count]
    return [(i, j) for _, i, j in chosen]


def identity_pair_maxima(features: np.ndarray, identities: list[str]) -> tuple[list[str], np.ndarray]:
    """Identity names and the ``[G, G]`` matrix of the highest item similarity per identity pair.

    Computed block by block over rows so memory stays ``BLOCK_ROWS x N``
    however many test faces there are.
    """
    groups = group_indices(identities)
    names = list(groups)
    order = np.concatenate(list(groups.values()))
    sizes = np.array([len(groups[name]) for name in names])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    ordered = features[order]
    maxima = np.empty((len(names), len(names)))
    first = 0
    while first < len(names):
        last = first + 1
        while last < len(names) and starts[last] + sizes[last] - starts[first] <= BLOCK_ROWS:
            last += 1
        rows = ordered[starts[first]:starts[last - 1] + sizes[last - 1]]
        block = np.round(rows @ ordered.T, DECIMALS)
        per_column_identity = np.maximum.reduceat(block, starts, axis=1)
        maxima[first:last] = np.maximum.reduceat(per_column_identity, starts[first:last] - starts[first], axis=0)
        first = last
    return names, maxima


def negative_candidates(features: np.ndarray, identities: list[str]) -> list[tuple[float, str, str]]:
    """For every identity pair ``(a, b)`` with ``a < b``: its highest item similarity."""
    names, maxima = identity_pair_maxima(features, identities)
    upper_rows, upper_cols = np.triu_indices(len(names), k=1)
    return [(float(maxima[r, c]), names[r], names[c]) for r, c in zip(upper_rows, upper_cols)]


def hardest_negatives(features: np.ndarray, identities: list[str], count: int) -> list[tuple[int, int]]:
    """The ``count`` most similar different-identity pairs, at most one per identity pair."""
    candidates = sorted(negative_candidates(features, identities), key=lambda c: (-c[0], c[1], c[2]))[:count]
    groups = group_indices(identities)
    pairs = []
    for _, name_a, name_b in candidates:
        rows, cols = groups[name_a], groups[name_b]
        block = similarity(features, rows, cols)
        r, c = np.unravel_index(int(np.argmax(block)), block.shape)
        i, j = int(rows[r]), int(cols[c])
        pairs.append((min(i, j), max(i, j)))
    return pairs
