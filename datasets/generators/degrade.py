"""Image degradations for the stand-ins: blur, sensor noise, JPEG compression and downscaling.

Each one is a pure function of the image and its strength; the generators
draw whether and how strongly to apply it from the image's own RNG, so a
degraded stand-in stays byte-identical for a given spec and seed.
"""

from __future__ import annotations

import cv2
import numpy as np


def blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of standard deviation ``sigma`` pixels (kernel sized by OpenCV from sigma)."""
    return cv2.GaussianBlur(image, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT_101)


def add_noise(image: np.ndarray, rng: np.random.Generator, std: float) -> np.ndarray:
    """Additive Gaussian noise of standard deviation ``std`` gray levels, per pixel and channel, clipped."""
    noisy = image.astype(np.float32) + rng.normal(0.0, std, image.shape).astype(np.float32)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """The RGB image after a JPEG round trip at ``quality`` (1-100, OpenCV's encoder)."""
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError(f"JPEG encoding at quality {quality} failed")
    return cv2.cvtColor(cv2.imdecode(encoded, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def downscale(image: np.ndarray, factor: float) -> np.ndarray:
    """Shrink by ``factor`` (< 1) with area averaging and enlarge back bilinearly: lost detail, same size."""
    h, w = image.shape[:2]
    small = cv2.resize(image, (max(1, round(w * factor)), max(1, round(h * factor))), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
