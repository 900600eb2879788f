"""The three white-box cartoon representations and the total-variation loss (Wang & Yu, CVPR 2020, §3).

Images are float tensors ``[N, C, H, W]`` in [-1, 1], as in the authors'
implementation (SystemErrorWang/White-box-Cartoonization), which fixes the
constants the paper leaves to it.

- surface (§3.1, eq. 1): the self-guided filter of the image, each channel
  guiding itself (radius 5, ε = 0.2 on the [-1, 1] scale);
- structure (§3.2, eq. 3): Felzenszwalb superpixels, each painted by the
  adaptive colouring rule: the mean colour where the region's standard
  deviation (per channel, averaged; 0–255 scale) is below γ1 = 20, the median above γ2 = 40, and
  the average of the two in between;
- texture (§3.3, eq. 5): the random colour shift, a random convex combination
  of the three channels giving one channel; the channel weights are drawn
  uniformly within ±0.1 of the luminance weights (0.299, 0.587, 0.114);
- total variation (§3.4, eq. 7): squared horizontal and vertical differences,
  each averaged, summed and divided by C·H·W.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from skimage.segmentation import felzenszwalb

SURFACE_RADIUS = 5
SURFACE_EPS = 0.2
GAMMA_LOW, GAMMA_HIGH = 20.0, 40.0
SEGMENT_SCALE = 1.0
SEGMENT_SIGMA = 0.8
SEGMENT_MIN_SIZE = 20
LUMA_WEIGHTS = (0.299, 0.587, 0.114)
SHIFT_SPREAD = 0.1


def pad_symmetric(images: torch.Tensor, radius: int) -> torch.Tensor:
    """Mirror-pad the last two axes, repeating the edge pixel (OpenCV's ``BORDER_REFLECT``)."""
    height, width = images.shape[-2:]
    rows = torch.cat([torch.arange(radius - 1, -1, -1), torch.arange(height), torch.arange(height - 1, height - radius - 1, -1)])
    cols = torch.cat([torch.arange(radius - 1, -1, -1), torch.arange(width), torch.arange(width - 1, width - radius - 1, -1)])
    return images[..., rows, :][..., cols]


def box_mean(images: torch.Tensor, radius: int) -> torch.Tensor:
    """Mean over each (2r+1)² window, mirrored at the borders."""
    return F.avg_pool2d(pad_symmetric(images, radius), 2 * radius + 1, stride=1)


def guided_filter(guide: torch.Tensor, source: torch.Tensor, radius: int, eps: float) -> torch.Tensor:
    """He et al.'s guided filter, channel c of ``guide`` guiding channel c of ``source``: q = mean(a)·I + mean(b)."""
    mean_guide = box_mean(guide, radius)
    mean_source = box_mean(source, radius)
    covariance = box_mean(guide * source, radius) - mean_guide * mean_source
    variance = box_mean(guide * guide, radius) - mean_guide * mean_guide
    a = covariance / (variance + eps)
    b = mean_source - a * mean_guide
    return box_mean(a, radius) * guide + box_mean(b, radius)


def surface_representation(images: torch.Tensor) -> torch.Tensor:
    """§3.1: the image's self-guided filter (texture and detail removed, edges kept)."""
    return guided_filter(images, images, SURFACE_RADIUS, SURFACE_EPS)


def adaptive_colour(pixels: np.ndarray) -> np.ndarray:
    """Eq. 3's colour of one region from its ``[n, 3]`` pixels (0–255): mean, median or their average by σ.

    σ is the region's per-channel standard deviation averaged over the
    channels; the authors' code takes one deviation over all values of all
    channels, which calls every saturated flat region high-variance.
    """
    spread = float(pixels.std(axis=0).mean())
    mean, median = pixels.mean(axis=0), np.median(pixels, axis=0)
    if spread < GAMMA_LOW:
        return mean
    if spread <= GAMMA_HIGH:
        return 0.5 * mean + 0.5 * median
    return median


def colour_segments(image: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """Paint each labelled region of a float ``[H, W, 3]`` image (0–255) with its adaptive colour."""
    painted = np.empty_like(image)
    for label in np.unique(segments):
        mask = segments == label
        painted[mask] = adaptive_colour(image[mask])
    return painted


def structure_image(image: np.ndarray, min_size: int = SEGMENT_MIN_SIZE) -> np.ndarray:
    """§3.2 on one float ``[H, W, 3]`` image in 0–255: Felzenszwalb superpixels, adaptively coloured."""
    segments = felzenszwalb(image / 255.0, scale=SEGMENT_SCALE, sigma=SEGMENT_SIGMA, min_size=min_size)
    return colour_segments(image, segments)


def structure_representation(images: torch.Tensor) -> torch.Tensor:
    """§3.2 on a batch in [-1, 1], computed without gradient (a fixed target, as in eq. 4)."""
    pixels = ((images.detach().clamp(-1, 1) + 1.0) * 127.5).permute(0, 2, 3, 1).numpy().astype(np.float64)
    painted = np.stack([structure_image(image) for image in pixels])
    return torch.from_numpy(painted / 127.5 - 1.0).permute(0, 3, 1, 2).float()


def colour_shift_weights(count: int, generator: torch.Generator) -> torch.Tensor:
    """``[count, 3]`` RGB weights, each uniform within ``SHIFT_SPREAD`` of the luminance weight."""
    centre = torch.tensor(LUMA_WEIGHTS)
    return centre + SHIFT_SPREAD * (2.0 * torch.rand(count, 3, generator=generator) - 1.0)


def random_colour_shift(images: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """§3.3, eq. 5: ``[N, 3, H, W]`` → ``[N, 1, H, W]``, the convex combination Σ w_c·I_c / Σ w_c per image."""
    normalised = weights / weights.sum(dim=1, keepdim=True)
    return (images * normalised[:, :, None, None]).sum(dim=1, keepdim=True)


def total_variation(images: torch.Tensor) -> torch.Tensor:
    """Eq. 7: (mean of squared vertical differences + mean of squared horizontal ones) / (C·H·W)."""
    channels, height, width = images.shape[1:]
    vertical = (images[:, :, 1:, :] - images[:, :, :-1, :]).pow(2).mean()
    horizontal = (images[:, :, :, 1:] - images[:, :, :, :-1]).pow(2).mean()
    return (vertical + horizontal) / (channels * height * width)
