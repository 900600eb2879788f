"""Image degradations for the stand-ins: blur, sensor noise, JPEG compression and downscaling.

Each one is a pure function of the image and its strength. A generator's
``nuisances`` block holds a ``Degradations`` entry (each one's probability
and strongest setting); ``degrade_all`` draws whether and how strongly to
apply each from the image's own RNG, so a degraded stand-in stays
byte-identical for a given spec and seed.
"""

from __future__ import annotations

from typing import Annotated

import cv2
import numpy as np
from pydantic import Field

from datasets.components import Params

Probability = Annotated[float, Field(ge=0.0, le=1.0)]


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


class Degradations(Params):
    """Each degradation's probability and its strongest setting (each image draws its own strength)."""

    blur: Probability = 0.0
    blur_sigma: float = Field(1.5, gt=0.0, le=8.0)
    noise: Probability = 0.0
    noise_std: float = Field(10.0, gt=0.0, le=64.0)
    jpeg: Probability = 0.0
    jpeg_quality: int = Field(25, ge=1, le=95)
    downscale: Probability = 0.0
    downscale_factor: float = Field(0.4, gt=0.0, lt=1.0)


def degrade_all(image: np.ndarray, rng: np.random.Generator, settings: Degradations) -> np.ndarray:
    """Blur, downscale, noise and JPEG in that order, each with its probability and a random strength."""
    draws = rng.random(4)
    strengths = rng.random(4)
    if draws[0] < settings.blur:
        image = blur(image, settings.blur_sigma * (0.3 + 0.7 * strengths[0]))
    if draws[1] < settings.downscale:
        image = downscale(image, settings.downscale_factor + (1 - settings.downscale_factor) * 0.8 * strengths[1])
    if draws[2] < settings.noise:
        image = add_noise(image, rng, settings.noise_std * (0.3 + 0.7 * strengths[2]))
    if draws[3] < settings.jpeg:
        image = jpeg(image, round(settings.jpeg_quality + (95 - settings.jpeg_quality) * strengths[3] * 0.7))
    return image
