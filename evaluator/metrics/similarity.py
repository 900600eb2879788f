"""Cosine similarity in float64, shared by identification and verification.

Every float64 similarity of the face metrics goes through :func:`dot_rows`,
so equal embeddings always give equal similarities, whichever metric asks.
"""

from __future__ import annotations

import numpy as np


def dot_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot products; the single routine behind every float64 similarity."""
    return (a * b).sum(axis=-1)


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm in float64 (an all-zero row stays zero)."""
    x64 = np.asarray(x, dtype=np.float64)
    norms = np.sqrt(dot_rows(x64, x64))
    return x64 / np.maximum(norms, np.finfo(np.float64).tiny)[..., None]
