"""The ToonNet paper's hand-drawing stylization filter, as a data augmentation.

The image is segmented by mean-shift filtering (regions of one flattened
colour); each segment gets a pencil texture G rotated by its own random
angle, and the texture is laid over the image by the screen blend

    I' = I + G − G∘I / 255

(∘: element-wise product), i.e. ``255 − (255 − I)(255 − G)/255``: where the
texture is 0 the colour stays, where it is 255 the paper shows white. The
texture is light paper crossed by darker strokes, so colour survives along
the strokes like a coloured-pencil drawing.

Pure functions: the same image and the same generator state give the same
result.
"""

from __future__ import annotations

import cv2
import numpy as np
from skimage.measure import label

MEAN_SHIFT_SPATIAL = 8
MEAN_SHIFT_COLOR = 24
SEGMENT_QUANTUM = 32
PAPER_LEVEL = 210.0
STROKE_DENSITY = 0.05
STROKE_LENGTH_FRACTION = 0.25
MIN_SEGMENT_FRACTION = 0.002


def screen_blend(image: np.ndarray, texture: np.ndarray) -> np.ndarray:
    """``I + G − G∘I/255`` for a uint8 RGB image and a ``[H, W]`` texture in [0, 255], rounded to uint8."""
    if texture.shape != image.shape[:2]:
        raise ValueError(f"texture shape {texture.shape} must match the image's height and width {image.shape[:2]}")
    values = image.astype(np.float64)
    overlay = np.clip(texture.astype(np.float64), 0.0, 255.0)[..., None]
    return np.clip(np.rint(values + overlay - overlay * values / 255.0), 0, 255).astype(np.uint8)


def pencil_strokes(side: int, rng: np.random.Generator) -> np.ndarray:
    """Horizontal pencil strokes in [0, 1] on a ``side``×``side`` canvas (1 = darkest stroke).

    Random dots smeared along a horizontal line kernel.
    """
    dots = (rng.random((side, side)) < STROKE_DENSITY) * rng.uniform(0.5, 1.0, (side, side))
    length = max(3, int(side * STROKE_LENGTH_FRACTION)) | 1
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0 / length
    strokes = cv2.filter2D(dots.astype(np.float32), -1, kernel, borderType=cv2.BORDER_WRAP)
    return strokes / max(float(strokes.max()), 1e-6)


def pencil_texture(strokes: np.ndarray, height: int, width: int, angle: float) -> np.ndarray:
    """Paper (``PAPER_LEVEL``) crossed by the strokes rotated by ``angle`` degrees: float32 ``[H, W]``.

    ``strokes`` is a square canvas at least the image's diagonal wide, so
    the rotated centre cut-out has no empty corners.
    """
    side = strokes.shape[0]
    rotation = cv2.getRotationMatrix2D((side / 2.0, side / 2.0), angle, 1.0)
    rotation[:, 2] -= ((side - width) // 2, (side - height) // 2)
    rotated = cv2.warpAffine(strokes, rotation, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
    return (PAPER_LEVEL * (1.0 - rotated)).astype(np.float32)


def mean_shift_segments(image: np.ndarray) -> np.ndarray:
    """Connected regions of one (quantised) colour after mean-shift filtering: int labels ``[H, W]``.

    Regions smaller than ``MIN_SEGMENT_FRACTION`` of the image (specks along
    colour boundaries) are pooled into one segment, label 0.
    """
    smoothed = cv2.pyrMeanShiftFiltering(np.ascontiguousarray(image), MEAN_SHIFT_SPATIAL, MEAN_SHIFT_COLOR)
    quantised = smoothed.astype(np.int64) // SEGMENT_QUANTUM
    codes = (quantised[..., 0] * 256 + quantised[..., 1]) * 256 + quantised[..., 2]
    segments = label(codes, background=-1, connectivity=1)
    areas = np.bincount(segments.ravel())
    segments[areas[segments] < MIN_SEGMENT_FRACTION * segments.size] = 0
    return segments


def segment_textures(segments: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One pencil texture per segment (in label order), each rotated by its own uniform random angle in [0°, 180°)."""
    height, width = segments.shape
    strokes = pencil_strokes(int(np.ceil(np.hypot(height, width))) + 2, rng)
    texture = np.zeros((height, width), np.float32)
    order = np.argsort(segments, axis=None, kind="stable")
    bounds = np.flatnonzero(np.diff(segments.ravel()[order])) + 1
    for pixels in np.split(order, bounds):
        rows, cols = np.unravel_index(pixels, segments.shape)
        texture[rows, cols] = pencil_texture(strokes, height, width, float(rng.uniform(0.0, 180.0)))[rows, cols]
    return texture


def hand_drawing(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """uint8 RGB image → the same image drawn with coloured pencils (same shape and dtype)."""
    return screen_blend(image, segment_textures(mean_shift_segments(image), rng))
