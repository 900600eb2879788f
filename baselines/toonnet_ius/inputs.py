"""What the ToonNet networks read (ToonNet paper §4.1–§4.3).

The recipe networks read IUS-processed images (Figs. 7 and 8 of the paper):
an image is resized to ``IUS_SIZE``, unified (§4.1), its per-channel
histogram taken for FIN (§4.2), and then shrunk to the networks' input size.
The plain network reads the same pipeline without the unification. NPN
members may read the image in another colour space (§4.3).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from baselines.common.classify import IMAGE_SIZE
from baselines.common.contract import InputManifest, read_rgb
from baselines.common.images import resize_square
from baselines.toonnet_ius.unify import unify_style

IUS_SIZE = 96
HIST_BINS = 16
COLOUR_SPACES = ("rgb", "hsv", "gray")


@dataclass(frozen=True)
class ToonInputs:
    """Unified images (uint8 ``[N, IMAGE_SIZE, IMAGE_SIZE, 3]``, RGB) and their histograms (``[N, 3, HIST_BINS]``)."""

    images: np.ndarray
    histograms: np.ndarray


def channel_histograms(image: np.ndarray, bins: int = HIST_BINS) -> np.ndarray:
    """The paper's FIN feature (§4.2): each channel's 256-level histogram merged into ``bins`` bins.

    Returns float32 ``[3, bins]`` normalised over all channels together (sums to 1).
    """
    counts = np.stack([cv2.calcHist([image], [channel], None, [bins], [0, 256]).ravel() for channel in range(3)])
    return (counts / counts.sum()).astype(np.float32)


def to_colour_space(images: np.ndarray, space: str) -> np.ndarray:
    """uint8 RGB ``[N, H, W, 3]`` in ``rgb``, ``hsv`` (OpenCV's full-range hue, 0–255) or ``gray`` (repeated in 3 channels)."""
    if space == "rgb":
        return images
    if space == "hsv":
        return np.stack([cv2.cvtColor(image, cv2.COLOR_RGB2HSV_FULL) for image in images]) if len(images) else images
    if space == "gray":
        return np.stack([cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB) for image in images]) if len(images) else images
    raise ValueError(f"colour space must be one of {COLOUR_SPACES}, not {space!r}")


def prepare(paths: Sequence[Path], ius: bool, desc: str) -> ToonInputs:
    """Read, resize to ``IUS_SIZE``, unify (when ``ius``), take histograms, shrink to ``IMAGE_SIZE``."""
    images = np.empty((len(paths), IMAGE_SIZE, IMAGE_SIZE, 3), np.uint8)
    histograms = np.empty((len(paths), 3, HIST_BINS), np.float32)
    for index, path in enumerate(tqdm(paths, desc=desc, leave=False, mininterval=1.0)):
        image = resize_square(read_rgb(path), IUS_SIZE)
        if ius:
            image = unify_style(image)
        histograms[index] = channel_histograms(image)
        images[index] = resize_square(image, IMAGE_SIZE)
    return ToonInputs(images, histograms)


_TRAIN_CACHE: dict[tuple[str, str, bool], tuple[ToonInputs, list[str]]] = {}


def train_inputs(built: Any, ius: bool) -> tuple[ToonInputs, list[str]]:
    """The train split, prepared once per process and protocol (IUS, FIN and NPN share it), and its labels."""
    key = (str(built.folder), built.protocol_hash, ius)
    if key not in _TRAIN_CACHE:
        items = built.train_items()
        desc = f"{built.spec.slug} train images{' (IUS)' if ius else ''}"
        prepared = prepare([Path(built.folder) / item.path for item in items], ius, desc)
        _TRAIN_CACHE[key] = (prepared, [str(item.label) for item in items])
    return _TRAIN_CACHE[key]


def manifest_inputs(manifest: InputManifest, ius: bool) -> ToonInputs:
    """A container's input images, prepared as in training."""
    return prepare([manifest.image_path(item) for item in manifest.items], ius, "input images")
