"""Image generation metrics for cartoonization: FID and KID.

Features are pytorch-fid's: the 2048-d pool3 output of its FID Inception-v3
(``pytorch_fid.inception.InceptionV3([3])``) on RGB images read as pytorch-fid
reads them (PIL ``convert("RGB")``, values in [0, 1]); the network resizes
to 299x299 itself. The standard weights are pytorch-fid's
``pt_inception-2015-12-05-6726825d.pth``; they are never downloaded here:
set ``TOONBENCH_FID_WEIGHTS`` to the file, or put it in torch hub's cache.

``seeded-inception`` is the same network with deterministic random weights
(numpy ``default_rng(SEEDED_WEIGHTS_SEED)``, He-normal convolutions,
identity batch norms). Its FIDs compare only with each other; results carry
``standard=False``.

FID (Heusel et al. 2017) is ``|mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr sqrt(S1 S2)``
with ``tr sqrt(S1 S2)`` the sum of the square roots of the eigenvalues of
``S1 S2``, computed in float64 through symmetric eigendecompositions (tiny
negative eigenvalues are round-off and are clipped to zero; so is a
negative total). KID (Binkowski et al. 2018) is the unbiased MMD^2 with the
polynomial kernel ``k(x, y) = (x.y / d + 1)^3`` averaged over random subsets,
as torchmetrics computes it.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from datasets.components import Params
from datasets.manifest import file_sha256
from evaluator.metrics import register_metric

FEATURE_DIM = 2048
FID_WEIGHTS_FILE = "pt_inception-2015-12-05-6726825d.pth"
FID_WEIGHTS_SHA256_PREFIX = "6726825d"  # the hash torch hub checks, from the file name
WEIGHTS_ENV = "TOONBENCH_FID_WEIGHTS"
SEEDED_WEIGHTS_SEED = 20151205
EXTRACTORS = ("pytorch-fid", "seeded-inception")
FID_RESAMPLES = 50


class FidWeightsMissing(FileNotFoundError):
    """The standard FID Inception weights are not on this machine."""


# ---------------------------------------------------------------- distances

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


# ---------------------------------------------------------------- extractor

def standard_weights_locations() -> list[Path]:
    """Where the standard weights are looked for, in order."""
    import torch

    locations = [Path(os.environ[WEIGHTS_ENV])] if os.environ.get(WEIGHTS_ENV) else []
    return locations + [Path(torch.hub.get_dir()) / "checkpoints" / FID_WEIGHTS_FILE]


def find_standard_weights() -> Path:
    locations = standard_weights_locations()
    for path in locations:
        if path.is_file():
            return path
    tried = "\n".join(f"  - {path}" for path in locations)
    raise FidWeightsMissing(
        f"FID needs pytorch-fid's Inception weights {FID_WEIGHTS_FILE} (sha256 starting "
        f"{FID_WEIGHTS_SHA256_PREFIX}), which are never downloaded here. Looked at:\n{tried}\n"
        f"Put the file in torch hub's cache ({locations[-1]}) or set {WEIGHTS_ENV}=<path>. "
        "For numbers that are not comparable with published FIDs, use the 'seeded-inception' "
        "extractor.")


def _fid_backbone() -> Any:
    """pytorch-fid's FID Inception-v3 layout, without weights (mirrors ``fid_inception_v3``)."""
    from pytorch_fid import inception as pf

    net = pf._inception_v3(num_classes=1008, aux_logits=False, weights=None)
    net.Mixed_5b = pf.FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = pf.FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = pf.FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = pf.FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = pf.FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = pf.FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = pf.FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = pf.FIDInceptionE_1(1280)
    net.Mixed_7c = pf.FIDInceptionE_2(2048)
    return net


def seeded_state_dict(seed: int = SEEDED_WEIGHTS_SEED) -> dict[str, Any]:
    """Deterministic weights for the FID Inception layout (same on every platform)."""
    import torch

    rng = np.random.default_rng(seed)
    state = {}
    with torch.device("meta"):  # shapes only: skips the random initialisation
        layout = _fid_backbone().state_dict()
    for name, tensor in layout.items():
        shape = tuple(tensor.shape)
        if name.endswith("num_batches_tracked"):
            values = np.zeros(shape, dtype=np.int64)
        elif name.endswith("weight") and len(shape) >= 2:
            fan_in = int(np.prod(shape[1:]))
            values = (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)
        elif name.endswith(("running_var", "bn.weight")):
            values = np.ones(shape, dtype=np.float32)
        else:
            values = np.zeros(shape, dtype=np.float32)
        state[name] = torch.from_numpy(values)
    return state


def state_dict_sha256(state: dict[str, Any]) -> str:
    """sha256 over (name, dtype, shape, bytes) of each tensor in order."""
    digest = hashlib.sha256()
    for name, tensor in state.items():
        array = tensor.detach().cpu().contiguous().numpy()
        digest.update(f"{name}:{array.dtype}:{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


_PATCH_LOCK = threading.Lock()


def fid_inception(state: dict[str, Any]) -> Any:
    """pytorch-fid's own ``InceptionV3([3])`` with ``state`` as its weights, no download.

    pytorch-fid fetches its weights inside the constructor; the fetch function is
    redirected to ``state`` for the duration of the call.
    """
    from pytorch_fid import inception as pf

    with _PATCH_LOCK:
        original = pf.load_state_dict_from_url
        pf.load_state_dict_from_url = lambda *args, **kwargs: state
        try:
            model = pf.InceptionV3([pf.InceptionV3.BLOCK_INDEX_BY_DIM[FEATURE_DIM]])
        finally:
            pf.load_state_dict_from_url = original
    return model.eval()


def _read_rgb(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def _decode_batch(paths: Sequence[Path], pin: bool) -> Any:
    """uint8 [B, H, W, 3] when sizes agree, else a list of [H, W, 3] arrays."""
    import torch

    images = [_read_rgb(path) for path in paths]
    if any(image.shape != images[0].shape for image in images):
        return images
    batch = torch.from_numpy(np.stack(images))
    return batch.pin_memory() if pin else batch


def _decoded_batches(paths: Sequence[Path], batch_size: int, workers: int, pin: bool
                     ) -> Iterator[Any]:
    """Batches in order; up to ``workers`` batches decode in threads ahead of the consumer."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[Any] = deque()
        for start in range(0, len(paths), batch_size):
            pending.append(pool.submit(_decode_batch, paths[start:start + batch_size], pin))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


@dataclass
class FeatureExtractor:
    """Maps image files to pool3 features; records which weights made them."""

    name: str
    weights_sha256: str
    standard: bool
    model: Any
    device: str
    batch_size: int = 50
    workers: int = 4
    progress: bool = False

    def _model_input(self, batch: Any) -> Any:
        import torch
        import torch.nn.functional as F

        if isinstance(batch, list):  # mixed sizes: resize each as the model would, then stack
            singles = [self._model_input(torch.from_numpy(image[None].copy())) for image in batch]
            return torch.cat([F.interpolate(single, size=(299, 299), mode="bilinear",
                                            align_corners=False) for single in singles])
        pixels = batch.to(self.device, non_blocking=True).permute(0, 3, 1, 2)
        return pixels.float().div_(255.0)  # NHWC memory: already channels_last

    def __call__(self, image_paths: Sequence[Path]) -> np.ndarray:
        import torch
        from tqdm import tqdm

        paths = [Path(path) for path in image_paths]
        features = np.empty((len(paths), FEATURE_DIM), dtype=np.float64)
        pin = self.device.startswith("cuda")
        batches = _decoded_batches(paths, self.batch_size, self.workers, pin)
        total = -(-len(paths) // self.batch_size)
        row = 0
        with torch.inference_mode():
            for batch in tqdm(batches, total=total, desc=f"{self.name} features",
                              disable=not self.progress, leave=False):
                pooled = self.model(self._model_input(batch))[0].flatten(1)
                features[row:row + len(pooled)] = pooled.cpu().numpy()
                row += len(pooled)
        return features


def load_extractor(name: str = "pytorch-fid", device: str | None = None, batch_size: int = 50,
                   workers: int | None = None, progress: bool = False) -> FeatureExtractor:
    """The FID feature extractor ``name`` (see ``EXTRACTORS``) on ``device`` (CUDA if any)."""
    import torch

    from evaluator.metrics.identification import resolve_device

    if name == "pytorch-fid":
        weights = find_standard_weights()
        state = torch.load(weights, map_location="cpu", weights_only=True)
        sha256 = file_sha256(weights)
        standard = sha256.startswith(FID_WEIGHTS_SHA256_PREFIX)
    elif name == "seeded-inception":
        state = seeded_state_dict()
        sha256, standard = state_dict_sha256(state), False
    else:
        raise ValueError(f"unknown FID feature extractor {name!r}; known: {', '.join(EXTRACTORS)}")
    device = resolve_device(device)
    model = fid_inception(state).to(device, memory_format=torch.channels_last)
    if device.startswith("cuda"):
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    workers = workers if workers is not None else min(8, os.cpu_count() or 1)
    return FeatureExtractor(name, sha256, standard, model, device, batch_size, workers, progress)


# ---------------------------------------------------------------- evidence and metrics

@dataclass(frozen=True)
class GenerationEvidence:
    """Features of the outputs, of their input photos (same rows) and of the reference cartoons."""

    output_features: np.ndarray
    photo_features: np.ndarray
    reference_features: np.ndarray
    extractor_name: str
    weights_sha256: str
    standard: bool

    def __len__(self) -> int:
        return len(self.output_features)

    def take(self, indices: np.ndarray) -> GenerationEvidence:
        return GenerationEvidence(self.output_features[indices], self.photo_features[indices],
                                  self.reference_features, self.extractor_name,
                                  self.weights_sha256, self.standard)

    def against(self, reference: str) -> np.ndarray:
        return self.reference_features if reference == "cartoon" else self.photo_features

    def details(self) -> dict[str, Any]:
        return {"extractor": self.extractor_name, "weights_sha256": self.weights_sha256,
                "standard": self.standard, "outputs": len(self.output_features),
                "reference_images": len(self.reference_features)}


class ReferenceParams(Params):
    reference: Literal["cartoon", "photo"] = Field(
        description="compare outputs with the reference cartoons or with the input photos")


class KidParams(ReferenceParams):
    subsets: int = Field(default=100, ge=1)
    subset_size: int = Field(default=1000, ge=2)


@register_metric("fid", tasks=("translation",), evidence="generation", higher_is_better=False,
                 params=ReferenceParams, resamples=FID_RESAMPLES)
def fid(evidence: GenerationEvidence, params: ReferenceParams) -> float:
    """FID of the outputs against the reference cartoons or the input photos."""
    return fid_from_features(evidence.output_features, evidence.against(params.reference))


@register_metric("kid", tasks=("translation",), evidence="generation", higher_is_better=False,
                 params=KidParams, resamples=FID_RESAMPLES)
def kid_metric(evidence: GenerationEvidence, params: KidParams) -> float:
    """KID of the outputs against the reference cartoons or the input photos."""
    return kid(evidence.output_features, evidence.against(params.reference),
               params.subsets, params.subset_size)
