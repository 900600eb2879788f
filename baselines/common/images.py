"""Turning images into the small arrays the baselines train on.

Train and predict go through the same functions, so a model always sees its
test inputs prepared exactly like its training inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from baselines.common.contract import read_rgb

ImageTransform = Callable[[np.ndarray], np.ndarray]


def resize_square(image: np.ndarray, size: int) -> np.ndarray:
    """Resize to ``size``×``size`` (area interpolation when shrinking)."""
    height, width = image.shape[:2]
    if (height, width) == (size, size):
        return image
    shrinking = size < min(height, width)
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def crop_face(image: np.ndarray, box: Sequence[int] | None, margin: float = 0.1) -> np.ndarray:
    """The face box grown by ``margin`` of its size on each side, clipped to the image.

    Without a box the whole image is the face.
    """
    if box is None:
        return image
    height, width = image.shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box)
    grow_x, grow_y = (x2 - x1) * margin, (y2 - y1) * margin
    left, top = max(0, int(round(x1 - grow_x))), max(0, int(round(y1 - grow_y)))
    right, bottom = min(width, int(round(x2 + grow_x))), min(height, int(round(y2 + grow_y)))
    if right - left < 2 or bottom - top < 2:
        return image
    return image[top:bottom, left:right]


def load_images(
    paths: Sequence[Path],
    size: int,
    boxes: Sequence[Sequence[int] | None] | None = None,
    transform: ImageTransform | None = None,
    desc: str = "loading images",
    margin: float = 0.1,
) -> np.ndarray:
    """Read, crop (faces: the box grown by ``margin`` per side), resize and optionally transform images.

    Returns uint8 ``[N, size, size, 3]``.
    """
    stacked = np.empty((len(paths), size, size, 3), dtype=np.uint8)
    for index, path in enumerate(tqdm(paths, desc=desc, leave=False, mininterval=1.0)):
        image = read_rgb(path)
        if boxes is not None:
            image = crop_face(image, boxes[index], margin)
        image = resize_square(image, size)
        stacked[index] = transform(image) if transform is not None else image
    return stacked
