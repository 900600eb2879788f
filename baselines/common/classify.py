"""What the classification baselines share: the narrow ResNet's shape and reading a split's images."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from baselines.common.contract import InputManifest
from baselines.common.images import ImageTransform, load_images

IMAGE_SIZE = 48
WIDTHS = (16, 32, 64, 128)
BLOCKS = (1, 1, 1, 1)


def split_arrays(built: Any, split: str, size: int, transform: ImageTransform | None = None) -> tuple[np.ndarray, list[str]]:
    """A built benchmark's train or test images (uint8, resized) and their class names."""
    items = built.train_items() if split == "train" else built.test_items()
    paths = [Path(built.folder) / item.path for item in items]
    images = load_images(paths, size, transform=transform, desc=f"{built.spec.slug} {split} images")
    return images, [str(item.label) for item in items]


def input_arrays(manifest: InputManifest, size: int, transform: ImageTransform | None = None) -> np.ndarray:
    paths = [manifest.image_path(item) for item in manifest.items]
    return load_images(paths, size, transform=transform, desc="input images")
