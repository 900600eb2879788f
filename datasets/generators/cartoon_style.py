"""The reference cartoons' house style: the ``style`` block of ``photo_crops``.

Published cartoon sets are not photographs with fewer colours: a studio
grades its frames with a palette of its own (Shinkai's saturated cyan
skies, Hayao's warm pastels) and inks its outlines in a colour of its own.
Without that, flattening a photo is already most of the way to the
reference cartoons and a fixed pipeline needs nothing from them. The block
gives every cartoon the same look:

- ``tint`` and ``tint_strength``: a multiplicative colour cast on every fill
  colour (the sky included), colour · ((1 − s) + s·tint / 255);
- ``outline_colour``: the ink of the outlines, which the cast leaves alone.

The cast maps each colour to one colour, so flat regions stay flat. The
defaults are neutral: no cast, the scene's near-black ink.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from pydantic import Field

from datasets.components import Params
from datasets.generators._draw import RGB, Part

NEUTRAL_OUTLINE: RGB = (25, 20, 30)


class CartoonStyle(Params):
    tint: RGB = (255, 255, 255)
    tint_strength: float = Field(default=0.0, ge=0.0, le=1.0)
    outline_colour: RGB = NEUTRAL_OUTLINE


def grade(image: np.ndarray, style: CartoonStyle) -> np.ndarray:
    """uint8 RGB → uint8 RGB under the style's colour cast."""
    cast = (1.0 - style.tint_strength) + style.tint_strength * np.asarray(style.tint, np.float32) / 255.0
    return np.round(np.clip(image.astype(np.float32) * cast, 0, 255)).astype(np.uint8)


def grade_parts(parts: list[Part], style: CartoonStyle) -> list[Part]:
    """The parts with their fill colours under the style's cast."""
    colours = grade(np.array([[part.colour for part in parts]], np.uint8), style)[0] if parts else []
    return [replace(part, colour=tuple(int(c) for c in colour)) for part, colour in zip(parts, colours)]
