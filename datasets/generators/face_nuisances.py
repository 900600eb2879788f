"""What makes the iCartoonFace stand-in hard: the ``nuisances`` block of ``cartoon_faces``.

Every nuisance is a probability, a bound or a strength written in the spec,
so it is validated on load and part of the protocol's hash. The defaults are
the stand-in as it was before the block existed (a third of the identities
look-alikes, yaw up to 0.45, roll up to 20 degrees, an occluder in 30 % of
the images, no recolouring, exact boxes, no degradations), so a spec without
the block draws byte-identical images.

The iCartoonFace paper (arXiv:1907.13394v1, §1 and the discussion of Fig. 11
in §5) names two failure cases, which the block controls directly:

- ``recolour`` / ``hue_shift`` / ``recolour_parts``: the same character drawn
  in other colours (hair, skin, clothes turned in hue per image), which lowers
  the similarity within an identity;
- ``lookalike`` / ``lookalike_changes``: two characters sharing hair style,
  brows and face type, told apart by one or two redrawn attributes.

``box_jitter`` moves each edge of the recorded face box by up to that
fraction of the box's side (a detector's error; the paper crops the
annotated box enlarged by the enlarged rate, §3.3 and Table 3).
``degradations`` are the ToonNet stand-in's blur, noise, JPEG and downscaling.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Literal, TypeVar

import numpy as np
from pydantic import Field, model_validator

from datasets.components import Params
from datasets.generators.degrade import Degradations
from datasets.generators.toon_nuisances import turn_hue

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
ColourPart = Literal["hair", "skin", "shirt", "eyes", "accessory"]
#: the identity's colour fields each recolourable part turns
PART_FIELDS: dict[str, tuple[str, ...]] = {"hair": ("hair",), "skin": ("skin",), "shirt": ("shirt",), "eyes": ("eye_colour",), "accessory": ("accessory",)}
Box = tuple[int, int, int, int]
T = TypeVar("T")


class FaceNuisances(Params):
    recolour: Probability = 0.0
    hue_shift: float = Field(60.0, ge=0.0, le=180.0)
    recolour_parts: tuple[ColourPart, ...] = ("hair", "skin", "shirt")
    lookalike: Probability = 0.35
    lookalike_changes: tuple[int, int] = (1, 2)
    box_jitter: float = Field(0.0, ge=0.0, le=0.3)
    yaw: float = Field(0.45, ge=0.0, le=0.9)
    roll: float = Field(20.0, ge=0.0, le=60.0)
    occlusion: Probability = 0.3
    degradations: Degradations = Degradations()

    @model_validator(mode="after")
    def _check(self) -> "FaceNuisances":
        low, high = self.lookalike_changes
        if not 1 <= low <= high <= 4:
            raise ValueError(f"lookalike_changes: expected [min, max] with 1 <= min <= max <= 4, got [{low}, {high}]")
        if len(set(self.recolour_parts)) != len(self.recolour_parts):
            raise ValueError(f"recolour_parts: each part at most once, got {list(self.recolour_parts)}")
        return self


def recolour_identity(who: T, shifts: dict[str, float]) -> T:
    """``who`` with the hue of each named part turned by its shift in degrees; shapes and proportions untouched."""
    turned = {name: turn_hue(getattr(who, name), degrees) for part, degrees in shifts.items() for name in PART_FIELDS[part]}
    return replace(who, **turned)  # type: ignore[type-var]


def draw_recolouring(rng: np.random.Generator, nuisances: FaceNuisances) -> dict[str, float]:
    """With probability ``recolour``, an independent hue shift in [-hue_shift, hue_shift] for each named part."""
    if not nuisances.recolour_parts or rng.random() >= nuisances.recolour:
        return {}
    turns = rng.uniform(-nuisances.hue_shift, nuisances.hue_shift, len(nuisances.recolour_parts))
    return {part: float(turn) for part, turn in zip(nuisances.recolour_parts, turns)}


def jitter_box(rng: np.random.Generator, box: Box, fraction: float, size: int) -> Box:
    """Each edge of ``box`` moved by up to ``fraction`` of the box's side along its axis, clipped to the image.

    With ``fraction`` < 0.5 the jittered box still overlaps the true one and keeps a positive width and height.
    """
    if fraction == 0:
        return box
    x1, y1, x2, y2 = box
    width, height = x2 - x1, y2 - y1
    moves = rng.uniform(-fraction, fraction, 4) * np.array([width, height, width, height])
    jittered = np.array(box, dtype=float) + moves
    low = np.clip(np.ceil(jittered[:2]), 0, size - 1)
    high = np.clip(np.floor(jittered[2:]), low + 1, size - 1)
    return int(low[0]), int(low[1]), int(high[0]), int(high[1])
