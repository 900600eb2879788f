"""Inputs unified stylization (IUS) from the ToonNet paper.

Cartoons are drawn in many styles; IUS pushes every input towards one flat
style before the CNN sees it: mean-shift filtering flattens shading, HSV
masks turn the (low-saturation, bright) background white and the (dark)
outlines black, and flood fills started from high-saturation seeds repaint
each connected region of similar hue with its mean colour.
"""

from __future__ import annotations

import cv2
import numpy as np

SPATIAL_RADIUS = 6
COLOR_RADIUS = 20
BACKGROUND_MAX_SATURATION = 40
BACKGROUND_MIN_VALUE = 200
OUTLINE_MAX_VALUE = 60
SEED_MIN_SATURATION = 90
HUE_TOLERANCE = 8
SEED_STRIDE = 3


def unify_style(image: np.ndarray) -> np.ndarray:
    """uint8 RGB image → uint8 RGB image in the unified flat style (same size)."""
    smoothed = cv2.pyrMeanShiftFiltering(cv2.cvtColor(image, cv2.COLOR_RGB2BGR), SPATIAL_RADIUS, COLOR_RADIUS)
    hsv = cv2.cvtColor(smoothed, cv2.COLOR_BGR2HSV)
    saturation, value = hsv[..., 1], hsv[..., 2]
    background = (saturation < BACKGROUND_MAX_SATURATION) & (value > BACKGROUND_MIN_VALUE)
    outline = value < OUTLINE_MAX_VALUE
    result = cv2.cvtColor(smoothed, cv2.COLOR_BGR2RGB)
    _fill_similar_hues(result, hsv, background | outline)
    result[background] = 255
    result[outline] = 0
    return result


def _fill_similar_hues(result: np.ndarray, hsv: np.ndarray, blocked: np.ndarray) -> None:
    """Repaint, in place, each region of similar hue reached from a saturated seed with its mean colour."""
    height, width = blocked.shape
    mask = np.zeros((height + 2, width + 2), np.uint8)
    mask[1:-1, 1:-1][blocked] = 1
    hue_only = (HUE_TOLERANCE, 255, 255)
    flags = 4 | cv2.FLOODFILL_MASK_ONLY | cv2.FLOODFILL_FIXED_RANGE | (2 << 8)
    for y, x in _seeds(hsv[..., 1]):
        if mask[y + 1, x + 1]:
            continue
        cv2.floodFill(hsv, mask, (int(x), int(y)), 0, hue_only, hue_only, flags)
        region = mask[1:-1, 1:-1] == 2
        result[region] = result[region].mean(axis=0).round().astype(np.uint8)
        mask[1:-1, 1:-1][region] = 1


def _seeds(saturation: np.ndarray) -> list[tuple[int, int]]:
    """Grid points whose saturation passes the threshold, most saturated first."""
    ys, xs = np.mgrid[0 : saturation.shape[0] : SEED_STRIDE, 0 : saturation.shape[1] : SEED_STRIDE]
    values = saturation[ys, xs].ravel()
    keep = values >= SEED_MIN_SATURATION
    order = np.argsort(-values[keep], kind="stable")
    return list(zip(ys.ravel()[keep][order], xs.ravel()[keep][order]))
