"""The FID feature extractor: pytorch-fid's Inception-v3, its weights, and image batches in.

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
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from datasets.manifest import file_sha256
from evaluator.metrics.ranking import resolve_device
from evaluator.metrics.images import decoded_batches

FEATURE_DIM = 2048
FID_WEIGHTS_FILE = "pt_inception-2015-12-05-6726825d.pth"
FID_WEIGHTS_SHA256_PREFIX = "6726825d"  # the hash torch hub checks, from the file name
WEIGHTS_ENV = "TOONBENCH_FID_WEIGHTS"
SEEDED_WEIGHTS_SEED = 20151205
EXTRACTORS = ("pytorch-fid", "seeded-inception")


class FidWeightsMissing(FileNotFoundError):
    """The standard FID Inception weights are not on this machine."""


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
        batches = decoded_batches(paths, self.batch_size, self.workers, pin)
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
