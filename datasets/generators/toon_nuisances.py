"""What makes the ToonNet stand-in hard: the ``nuisances`` block of ``toon_objects`` and its pieces.

Every nuisance is a probability (or a weight, or a strength) written in the
spec, so it is validated on load and part of the protocol's hash. All of
them default to off: a spec without the block draws the plain stand-in.

- ``styles``: weights of the drawing styles: flat fills with outlines, cel
  shading (ToonNet §3.2) and the hand-drawing filter with a pencil, crayon
  or custom texture (§3.4).
- ``designs``: 1-4 designs per class (as drawn, head-heavy, simplified
  without small details, line art).
- ``recolour`` / ``hue_shift``: how often and how far (degrees) a drawing's
  hues turn, so a class's colours vary but stay correlated with it.
- ``white_gaps`` / ``gap_fraction``: hand-painted fills that leave the paper
  showing (what the ToonNet paper's IUS pre-processing repairs, §4.1).
- ``lookalike``: how often cat, dog, panda and winnie bear are drawn on one
  shared body plan, told apart only by ears, face and markings.
- ``clutter``: how often small objects of other classes stand behind.
- ``degradations``: blur, noise, JPEG and downscaling, each a probability
  with a strength.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

import cv2
import numpy as np
from pydantic import Field, model_validator

from datasets.components import Params
from datasets.generators.degrade import Degradations, Probability
from datasets.generators._draw import RGB, Part, bezier, ellipse, jitter_colour, poly, rect, shade

Weight = Annotated[float, Field(ge=0.0)]
PAPER: RGB = (250, 250, 248)
INK: RGB = (30, 30, 35)
LOOKALIKES = ("cat", "dog", "panda", "winnie bear")


class StyleWeights(Params):
    """Relative weights of the drawing styles (need not sum to 1; at least one positive)."""

    flat: Weight = 1.0
    cel: Weight = 0.0
    pencil: Weight = 0.0
    crayon: Weight = 0.0
    custom: Weight = 0.0

    @model_validator(mode="after")
    def _one_positive(self) -> "StyleWeights":
        if sum(self.model_dump().values()) <= 0:
            raise ValueError("at least one style needs a positive weight")
        return self


class ToonNuisances(Params):
    styles: StyleWeights = StyleWeights()
    designs: int = Field(1, ge=1, le=4)
    recolour: Probability = 0.0
    hue_shift: float = Field(60.0, ge=0.0, le=180.0)
    white_gaps: Probability = 0.0
    gap_fraction: float = Field(0.15, gt=0.0, le=0.5)
    lookalike: Probability = 0.0
    clutter: Probability = 0.0
    degradations: Degradations = Degradations()


def pick_style(rng: np.random.Generator, styles: StyleWeights) -> str:
    names, weights = zip(*styles.model_dump().items())
    p = np.asarray(weights, dtype=float)
    return str(names[int(rng.choice(len(names), p=p / p.sum()))])


# ---------------------------------------------------------------- shape-level nuisances


def turn_hue(colour: RGB, degrees: float) -> RGB:
    """``colour`` with its HSV hue turned by ``degrees`` (grays stay gray)."""
    hsv = cv2.cvtColor(np.array([[colour]], dtype=np.uint8), cv2.COLOR_RGB2HSV_FULL).astype(int)
    hsv[0, 0, 0] = (hsv[0, 0, 0] + round(degrees * 256 / 360)) % 256
    return tuple(int(v) for v in cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB_FULL)[0, 0])  # type: ignore[return-value]


def recolour(parts: list[Part], degrees: float) -> list[Part]:
    return [replace(part, colour=turn_hue(part.colour, degrees)) for part in parts]


def _area(points: np.ndarray) -> float:
    x, y = points[:, 0], points[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))


def design_variant(parts: list[Part], design: int) -> list[Part]:
    """Design 0 as drawn, 1 head-heavy (top widened, bottom narrowed), 2 without small details, 3 line art."""
    if design == 1:
        return [replace(p, points=p.points * np.stack([1.15 - 0.3 * np.clip(p.points[:, 1], -1, 1), np.ones(len(p.points))], 1)) for p in parts]
    if design == 2:
        kept = [p for p in parts if not p.closed or _area(p.points) >= 0.012]
        return kept or parts
    if design == 3:
        return [replace(p, colour=PAPER if p.closed else INK) for p in parts]
    return parts


def sitting_animal(rng: np.random.Generator, class_name: str) -> list[Part]:
    """The look-alikes' shared body plan (body, head, two ears, muzzle, eyes); ears and markings tell the class."""
    palettes = {
        "cat": [(240, 150, 60), (150, 150, 160), (245, 240, 230)],
        "dog": [(190, 130, 70), (230, 200, 150), (120, 80, 50)],
        "panda": [(245, 245, 240)],
        "winnie bear": [(235, 175, 55)],
    }
    options = palettes[class_name]
    fur = jitter_colour(rng, options[int(rng.integers(len(options)))], 12)
    dark = jitter_colour(rng, (35, 35, 40), 6)
    head_y, ear_size = rng.uniform(-0.42, -0.3), rng.uniform(0.1, 0.14)
    ears = {
        "cat": [Part(poly((s * 0.32, head_y - 0.1), (s * 0.3, head_y - 0.5), (s * 0.06, head_y - 0.3)), fur) for s in (-1, 1)],
        "dog": [Part(ellipse(s * 0.34, head_y + 0.05, 0.1, 0.24, s * -15), shade(fur, 0.6)) for s in (-1, 1)],
        "panda": [Part(ellipse(s * 0.27, head_y - 0.27, ear_size, ear_size), dark) for s in (-1, 1)],
        "winnie bear": [Part(ellipse(s * 0.27, head_y - 0.27, ear_size, ear_size), fur) for s in (-1, 1)],
    }[class_name]
    body = [Part(ellipse(0, 0.38, 0.4, 0.42), fur), Part(ellipse(0, head_y, 0.36, 0.32), fur)]
    if class_name == "winnie bear":
        body.insert(1, Part(ellipse(0, 0.2, 0.41, 0.26), jitter_colour(rng, (215, 40, 40), 12)))
    face = [Part(ellipse(0, head_y + 0.13, 0.14, 0.1), shade(fur, 1.2)), Part(ellipse(0, head_y + 0.08, 0.05, 0.035), INK)]
    if class_name == "panda":
        face += [Part(ellipse(s * 0.14, head_y - 0.03, 0.08, 0.1, s * 30), dark, outline=False) for s in (-1, 1)]
    face += [Part(ellipse(s * 0.13, head_y - 0.05, 0.03, 0.04), INK if class_name != "panda" else PAPER, outline=False) for s in (-1, 1)]
    if class_name == "cat":
        face += [Part(poly((s * 0.12, head_y + 0.12), (s * 0.45, head_y + 0.08 + d)), INK, closed=False, width=0.015, outline=False) for s in (-1, 1) for d in (-0.04, 0.04)]
    if class_name == "dog":
        face.append(Part(bezier((-0.05, head_y + 0.2), (0, head_y + 0.3), (0.05, head_y + 0.2)), (220, 90, 110), closed=False, width=0.04, outline=False))
    feet = [Part(ellipse(s * 0.2, 0.78, 0.14, 0.09), dark if class_name == "panda" else fur) for s in (-1, 1)]
    tail = [Part(rect(0.3, 0.5, 0.42, 0.56), fur)] if class_name == "dog" else []
    return tail + feet + body[:1] + ears + body[1:] + face


# ---------------------------------------------------------------- image-level nuisances


def white_gaps(image: np.ndarray, inside: np.ndarray, rng: np.random.Generator, fraction: float) -> np.ndarray:
    """Paint ``fraction`` of the (eroded) ``inside`` mask paper-white in irregular blotches, as a hurried hand would."""
    interior = cv2.erode(inside.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=2).astype(bool)
    if not interior.any():
        return image
    size = image.shape[0]
    cells = max(3, size // 10)
    noise = cv2.resize(rng.random((cells, cells)).astype(np.float32), (size, size), interpolation=cv2.INTER_CUBIC)
    cut = np.quantile(noise[interior], 1 - fraction)
    out = image.copy()
    out[interior & (noise > cut)] = PAPER
    return out
