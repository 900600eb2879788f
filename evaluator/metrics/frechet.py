"""FID and KID from feature rows: the math only, in float64.

FID (Heusel et al. 2017) is ``|mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr sqrt(S1 S2)``
with ``tr sqrt(S1 S2)`` the sum of the square roots of the eigenvalues of
``S1 S2``, computed in float64 through symmetric eigendecompositions (tiny
negative eigenvalues are round-off and are clipped to zero; so is a
negative total). KID (Binkowski et al. 2018) is the unbiased MMD^2 with the
polynomial kernel ``k(x, y) = (x.y / d + 1)^3`` averaged over random subsets,
as torchmetrics computes it.
"""

from __future__ import annotations

import numpy as np


def gaussian_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, covariance with ddof=1) of feature rows, in float64, as pytorch-fid."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"need at least 2 feature rows of shape [N, D], got {features.shape}")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """tr sqrt(S1 S2) for covariances S1, S2.

    With S1 = R R^T (Cholesky, or the eigendecomposition when S1 is singular),
    S1 S2 has the eigenvalues of the symmetric R^T S2 R, so the trace is the sum
    of the square roots of that matrix's eigenvalues (``eigvalsh``).
    """
    try:
        root = np.linalg.cholesky(sigma1)
    except np.linalg.LinAlgError:  # singular, e.g. fewer images than feature dimensions
        eigenvalues, eigenvectors = np.linalg.eigh(sigma1)
        root = eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))
    product = root.T @ sigma2 @ root
    product = (product + product.T) / 2.0
    return float(np.sqrt(np.clip(np.linalg.eigvalsh(product), 0.0, None)).sum())


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray
                     ) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2), in float64."""
    mu1 = np.atleast_1d(np.asarray(mu1, np.float64))
    mu2 = np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1 = np.atleast_2d(np.asarray(sigma1, np.float64))
    sigma2 = np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != mu1.shape * 2:
        raise ValueError(f"mismatched Gaussians: means {mu1.shape}, {mu2.shape}; "
                         f"covariances {sigma1.shape}, {sigma2.shape}")
    diff = mu1 - mu2
    distance = (diff @ diff + np.trace(sigma1) + np.trace(sigma2)
                - 2.0 * trace_sqrt_product(sigma1, sigma2))
    return max(float(distance), 0.0)


def fid_from_features(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """FID of two feature sets; same value as ``frechet_distance`` of their ``gaussian_stats``.

    When the sets are small next to the feature width (fewer rows than
    columns, as in a held-out split), ``S_a S_b`` has at most ``min(n_a, n_b)``
    non-zero eigenvalues, the squared singular values of ``A B^T`` with ``A``,
    ``B`` the centred rows scaled by ``1/sqrt(n - 1)``; that route avoids
    the d x d matrices altogether.
    """
    a = np.asarray(features_a, dtype=np.float64)
    b = np.asarray(features_b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(f"need two feature sets [N>=2, D] of one width, got {a.shape}, {b.shape}")
    if len(a) * len(b) > a.shape[1] ** 2:
        return frechet_distance(*gaussian_stats(a), *gaussian_stats(b))
    centred_a = (a - a.mean(axis=0)) / np.sqrt(len(a) - 1)
    centred_b = (b - b.mean(axis=0)) / np.sqrt(len(b) - 1)
    diff = a.mean(axis=0) - b.mean(axis=0)
    trace_sqrt = np.linalg.svd(centred_a @ centred_b.T, compute_uv=False).sum()
    distance = diff @ diff + (centred_a**2).sum() + (centred_b**2).sum() - 2.0 * trace_sqrt
    return max(float(distance), 0.0)


def _polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def _unbiased_mmd2(k_xx: np.ndarray, k_yy: np.ndarray, k_xy: np.ndarray) -> float:
    m = len(k_xx)
    within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return float(within - 2.0 * k_xy.sum() / (m * m))


def kid_subsets(features_a: np.ndarray, features_b: np.ndarray, subsets: int = 100,
                subset_size: int = 1000, seed: int = 0,
                max_kernel_entries: int = 16_000_000) -> np.ndarray:
    """float[subsets]: unbiased polynomial-kernel MMD^2 on each random subset pair.

    Subset ``i`` takes the first ``m = min(subset_size, n_a, n_b)`` entries of
    ``rng.permutation(n_a)`` and then of ``rng.permutation(n_b)``, with
    ``rng = numpy.random.default_rng(seed)``. When the whole kernel matrices are
    small (at most ``max_kernel_entries`` entries each) they are computed once
    and each subset reads its block; otherwise each subset computes its own.
    """
    a = np.asarray(features_a, dtype=np.float64)
    b = np.asarray(features_b, dtype=np.float64)
    m = min(subset_size, len(a), len(b))
    if m < 2:
        raise ValueError(f"KID needs at least 2 images per set, got {len(a)} and {len(b)}")
    rng = np.random.default_rng(seed)
    precomputed = max(len(a), len(b)) ** 2 <= max_kernel_entries
    if precomputed:
        k_aa, k_bb = _polynomial_kernel(a, a), _polynomial_kernel(b, b)
        k_ab = _polynomial_kernel(a, b)
    values = np.empty(subsets)
    for i in range(subsets):
        x = rng.permutation(len(a))[:m]
        y = rng.permutation(len(b))[:m]
        if precomputed:
            values[i] = _unbiased_mmd2(k_aa[np.ix_(x, x)], k_bb[np.ix_(y, y)], k_ab[np.ix_(x, y)])
        else:
            values[i] = _unbiased_mmd2(_polynomial_kernel(a[x], a[x]),
                                       _polynomial_kernel(b[y], b[y]),
                                       _polynomial_kernel(a[x], b[y]))
    return values


def kid(features_a: np.ndarray, features_b: np.ndarray, subsets: int = 100,
        subset_size: int = 1000, seed: int = 0) -> float:
    """Kernel Inception Distance: mean of :func:`kid_subsets`."""
    return float(kid_subsets(features_a, features_b, subsets, subset_size, seed).mean())
