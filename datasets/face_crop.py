"""The iCartoonFace "enlarged rate" crop, shared by the real release's adapter and the synthetic faces.

The paper crops every face around its box grown by an enlarged rate r
(section "Experiments", "Enlarged rates", Table 3 and Fig. 10): each side
moves out by r/2 of the box's width or height, so r = 1 (the paper's
default) keeps twice the box's width and height around its centre and
r = 0.2 keeps little more than the box, without the hair.
"""

from __future__ import annotations

import math

import numpy as np

Box = tuple[int, int, int, int]


def enlarged_crop(box: Box, rate: float, width: int, height: int) -> Box:
    """Crop rectangle ``(x1, y1, x2, y2)`` around ``box`` enlarged by ``rate``, clamped to the image.

    Fractional edges are rounded outwards so the crop never cuts the enlarged area.
    """
    x1, y1, x2, y2 = box
    pad_x, pad_y = rate * (x2 - x1) / 2, rate * (y2 - y1) / 2
    return (
        max(0, math.floor(x1 - pad_x)),
        max(0, math.floor(y1 - pad_y)),
        min(width, math.ceil(x2 + pad_x)),
        min(height, math.ceil(y2 + pad_y)),
    )


def crop_enlarged(image: np.ndarray, box: Box, rate: float) -> tuple[np.ndarray, Box]:
    """The crop of ``image`` around ``box`` at ``rate`` and the box in the crop's coordinates."""
    height, width = image.shape[:2]
    cx1, cy1, cx2, cy2 = enlarged_crop(box, rate, width, height)
    x1, y1, x2, y2 = box
    crop = np.ascontiguousarray(image[cy1:cy2, cx1:cx2])
    return crop, (x1 - cx1, y1 - cy1, x2 - cx1, y2 - cy1)
