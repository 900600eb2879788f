"""A classical rendition of White-box Cartoonization's three representations.

The article on White-box Cartoonization (Wang & Yu, CVPR 2020) splits a
cartoon into a surface, a structure and a texture representation; here each
is made by the classical operator it names, with no network:

- surface: the self-guided filter of White-box's surface representation
  (§3.1, eq. 1; He et al.'s guided filter, each channel guiding itself),
  which smooths textures while keeping edges, with the White-box authors'
  r = 5 and eps = 0.2 on images in [-1, 1], i.e. eps = 0.05 on [0, 1];
- structure: Felzenszwalb & Huttenlocher superpixels of the surface image,
  each filled with its mean colour (flat, cel-shaded regions).
  ``SEGMENT_SIGMA`` and ``SEGMENT_MIN_SIZE`` are the pre-smoothing and the
  smallest region White-box's structure representation uses (§3.2: 0.8, 20,
  scikit-image's defaults too); the scale (Felzenszwalb's k) is part of
  :class:`Style`;
- texture: Canny outlines of the surface image, with OpenCV's customary
  hysteresis thresholds 100/200.

The output is the structure image with its saturation scaled and its
outlines darkened. The three constants that shape the look most, the
saturation gain, the outline darkness and the segment scale, form a
:class:`Style`; the baseline picks one on the train split (``selection.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from skimage.segmentation import felzenszwalb

GUIDED_RADIUS = 5
GUIDED_EPS = 0.2 / 4  # 0.2 on [-1, 1]: variances there are 4 times those on [0, 1]
SEGMENT_SIGMA = 0.8
SEGMENT_MIN_SIZE = 20
CANNY_LOW, CANNY_HIGH = 100, 200


@dataclass(frozen=True)
class Style:
    """The chosen constants: saturation gain, outline brightness factor (0 = black), Felzenszwalb scale.

    The defaults are neutral: colours unchanged, black outlines, White-box's (and scikit-image's) scale 1.
    """

    saturation_gain: float = 1.0
    edge_darkness: float = 0.0
    segment_scale: float = 1.0


def box_mean(values: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a (2r+1)² window, normalised at the borders."""
    return cv2.boxFilter(values, -1, (2 * radius + 1, 2 * radius + 1), normalize=True, borderType=cv2.BORDER_REFLECT)


def guided_filter(guide: np.ndarray, source: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """Gray-guide guided filter on float32 2-D arrays: q = mean(a)·I + mean(b)."""
    mean_guide = box_mean(guide, radius)
    mean_source = box_mean(source, radius)
    covariance = box_mean(guide * source, radius) - mean_guide * mean_source
    variance = box_mean(guide * guide, radius) - mean_guide * mean_guide
    a = covariance / (variance + eps)
    b = mean_source - a * mean_guide
    return box_mean(a, radius) * guide + box_mean(b, radius)


def surface(photo: np.ndarray) -> np.ndarray:
    """Self-guided filter per channel: float32 RGB in [0, 1]."""
    scaled = photo.astype(np.float32) / 255.0
    channels = [guided_filter(scaled[..., c], scaled[..., c], GUIDED_RADIUS, GUIDED_EPS) for c in range(3)]
    return np.clip(np.stack(channels, axis=-1), 0.0, 1.0)


def structure(image: np.ndarray, scale: float) -> np.ndarray:
    """Felzenszwalb superpixels of a float RGB image, each filled with its mean colour."""
    segments = felzenszwalb(image, scale=scale, sigma=SEGMENT_SIGMA, min_size=SEGMENT_MIN_SIZE)
    flat = segments.ravel()
    counts = np.bincount(flat)
    means = np.stack([np.bincount(flat, weights=image[..., c].ravel()) / counts for c in range(3)], axis=-1)
    return means[segments].astype(np.float32)


def outlines(image: np.ndarray) -> np.ndarray:
    """Boolean outline mask from Canny edges of the (smoothed) image."""
    gray = cv2.cvtColor((image * 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)
    return cv2.Canny(gray, CANNY_LOW, CANNY_HIGH) > 0


def scale_saturation(image: np.ndarray, gain: float) -> np.ndarray:
    """Multiply the HSV saturation of a float RGB image in [0, 1] by ``gain``, clipped to 1."""
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)
    hsv[..., 1] = np.clip(hsv[..., 1] * gain, 0.0, 1.0)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


def cartoonize(photo: np.ndarray, style: Style = Style()) -> np.ndarray:
    """uint8 RGB photo → uint8 RGB cartoon of the same size."""
    smooth = surface(photo)
    cartoon = scale_saturation(structure(smooth, style.segment_scale), style.saturation_gain)
    cartoon[outlines(smooth)] *= style.edge_darkness
    return np.clip(cartoon * 255.0 + 0.5, 0, 255).astype(np.uint8)
