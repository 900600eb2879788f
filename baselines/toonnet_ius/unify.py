"""Inputs Unified Stylization (IUS), ToonNet paper §4.1.

Hand-drawn cartoons are painted irregularly: strokes leave white gaps and
colours vary inside one region. IUS repaints each region in one colour:

1. mean-shift filtering (OpenCV's ``pyrMeanShiftFiltering``) evens out the
   paint; everything below works on the filtered image;
2. HSV masks of the background (saturation near the minimum, value near the
   maximum) and of the outline (low value, not quite black for pencil
   strokes); masked pixels are never filled. A light component that is
   small and does not touch the border is not background: it is one of the
   paper's light gaps left by the painting, which a fill may take;
3. the image is cut into ``REGIONS``×``REGIONS`` small regions and the most
   saturated unmasked pixel of each is a seed;
4. from each seed, a breadth-first fill over the 8-neighbourhood takes every
   reachable pixel whose hue is close to the seed's or that is a light
   unmasked pixel, and paints it with the seed's colour. Seeds already taken
   by an earlier fill are skipped.

The paper gives no numbers for the thresholds; the constants below are fixed
from its description (a hue needs some saturation, OpenCV's 0–179 hue
scale) and were not tuned on any split. Two choices are ours: seeds start
most saturated first (the paper does not order them), and an unsaturated
pixel has no hue, so it is "close" to no seed (OpenCV calls its hue 0, red).
"""

from __future__ import annotations

import cv2
import numpy as np

SPATIAL_RADIUS = 3
COLOR_RADIUS = 20
LIGHT_MAX_SATURATION = 40
LIGHT_MIN_VALUE = 190
OUTLINE_MAX_VALUE = 80
HUE_MIN_SATURATION = 40
HUE_TOLERANCE = 10
REGIONS = 8
SMALL_LIGHT_FRACTION = 0.02
HUE_SCALE = 180  # OpenCV's 8-bit hue runs 0-179


def unify_style(image: np.ndarray) -> np.ndarray:
    """uint8 RGB image → uint8 RGB image in the unified style (same size)."""
    smoothed = mean_shift(image)
    hsv = cv2.cvtColor(smoothed, cv2.COLOR_RGB2HSV)
    light = light_pixels(hsv)
    background = background_mask(light)
    blocked = background | outline_mask(hsv)
    return fill_from_seeds(smoothed, hsv, blocked, light & ~background)


def mean_shift(image: np.ndarray) -> np.ndarray:
    """OpenCV's mean-shift filter at full resolution (no pyramid, whose upsampling smears edges).

    It treats a pixel as a colour triple, so RGB order works as well as OpenCV's BGR.
    """
    return cv2.pyrMeanShiftFiltering(np.ascontiguousarray(image), SPATIAL_RADIUS, COLOR_RADIUS, maxLevel=0)


def light_pixels(hsv: np.ndarray) -> np.ndarray:
    """Saturation near its minimum and value near its maximum: background paper or an unpainted gap."""
    return (hsv[..., 1] <= LIGHT_MAX_SATURATION) & (hsv[..., 2] >= LIGHT_MIN_VALUE)


def outline_mask(hsv: np.ndarray) -> np.ndarray:
    """Dark strokes: a low value, allowed a little above black (pencil lines are not solid black)."""
    return hsv[..., 2] <= OUTLINE_MAX_VALUE


def background_mask(light: np.ndarray) -> np.ndarray:
    """Light 8-connected components that touch the border or are not small (≥ ``SMALL_LIGHT_FRACTION`` of the image)."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(light.astype(np.uint8), connectivity=8)
    height, width = light.shape
    left, top, box_w, box_h, area = (stats[:, column] for column in (cv2.CC_STAT_LEFT, cv2.CC_STAT_TOP, cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT, cv2.CC_STAT_AREA))
    touches = (left == 0) | (top == 0) | (left + box_w == width) | (top + box_h == height)
    keep = touches | (area >= SMALL_LIGHT_FRACTION * height * width)
    keep[0] = False  # label 0 is everything that is not light
    return keep[labels]


def seed_pixels(saturation: np.ndarray, eligible: np.ndarray, regions: int = REGIONS) -> list[tuple[int, int]]:
    """The most saturated eligible pixel of each block of a ``regions``×``regions`` grid, most saturated first: ``(y, x)``.

    Blocks are ``ceil(H / regions)`` × ``ceil(W / regions)`` pixels (the last row and column may be smaller).
    """
    height, width = saturation.shape
    block_h, block_w = -(-height // regions), -(-width // regions)
    scored = np.full((block_h * regions, block_w * regions), -1, np.int16)
    scored[:height, :width] = np.where(eligible, saturation.astype(np.int16), -1)
    blocks = scored.reshape(regions, block_h, regions, block_w).transpose(0, 2, 1, 3).reshape(regions * regions, -1)
    best, values = blocks.argmax(axis=1), blocks.max(axis=1)
    rows, cols = np.divmod(np.arange(regions * regions), regions)
    ys, xs = rows * block_h + best // block_w, cols * block_w + best % block_w
    order = np.argsort(-values, kind="stable")
    return [(int(ys[i]), int(xs[i])) for i in order if values[i] >= 0]


def fill_from_seeds(image: np.ndarray, hsv: np.ndarray, blocked: np.ndarray, light: np.ndarray) -> np.ndarray:
    """Breadth-first 8-neighbourhood fills (``cv2.floodFill``) from each seed with the seed's colour.

    A pixel joins a fill when its hue is within ``HUE_TOLERANCE`` of the
    seed's (circularly) or when it is in ``light``; ``blocked`` pixels
    never join. Returns a new image. For each seed, hues are shifted so the
    seed's sits mid-scale (so a fixed range wraps round the hue circle), light
    pixels get the seed's hue and hueless ones a hue out of range.
    """
    result = image.copy()
    hue = hsv[..., 0].astype(np.int16)
    has_hue = hsv[..., 1] >= HUE_MIN_SATURATION
    mask = np.zeros((hue.shape[0] + 2, hue.shape[1] + 2), np.uint8)
    inner = mask[1:-1, 1:-1]
    inner[blocked] = 1
    centre = HUE_SCALE // 2
    far = HUE_SCALE  # more than the tolerance away from the centre
    flags = 8 | cv2.FLOODFILL_FIXED_RANGE | cv2.FLOODFILL_MASK_ONLY | (2 << 8)
    for y, x in seed_pixels(hsv[..., 1], ~blocked & has_hue):
        if inner[y, x]:
            continue
        relative = np.where(has_hue, (hue - hue[y, x] + centre) % HUE_SCALE, far)
        relative[light] = centre
        cv2.floodFill(relative.astype(np.uint8), mask, (x, y), 0, HUE_TOLERANCE, HUE_TOLERANCE, flags)
        region = inner == 2
        result[region] = image[y, x]
        inner[region] = 1
    return result
