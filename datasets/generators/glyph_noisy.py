"""The *noisy* training set of the illustration stand-in: the ``noisy`` block of ``clipart_glyphs``.

Lagunas and Garces (CEIG 2017, §4.2) build two sets. The *noisy* one maps a
large clip-art collection onto ImageNet class names by matching words: it has
many more classes than the benchmark (826 against the curated 23) and some of
its labels are wrong, since ambiguous or synonymous names put an image under
another class. §7 trains the network's layers on it and only the SVM on the
curated set. The block here makes such a set beside the curated stand-in:

- ``per_class`` images of every curated class and of ``extra_classes`` other
  object classes (``extra_class_names``, each a fixed arrangement of simple
  parts drawn in the same clip-art styles, ``extra_shape``), ``size`` pixels
  square (a large set is cheaper to draw and store small);
- exactly ``round(label_noise * N)`` of its N labels name another noisy class
  than the one drawn (``noisy_labels``), as §4.2's word matching does.

Its images come from their own random streams, so none is a curated image, and
building puts every one in the ``noisy`` split, which training may read and
the held-out split never holds. The block is part of the protocol's hash.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
from pydantic import Field

from datasets.components import Params
from datasets.generators._draw import Part, ellipse, poly, rounded_rect
from datasets.generators._glyph_shapes import Palette, Shape
from datasets.generators.degrade import Probability

EXTRA_PREFIX = "noisy_object_"
LAYOUT_TAG = 826  # the layouts of the extra classes depend on their number only, never on the build seed
LABEL_TAG = 4


class NoisySet(Params):
    """``per_class`` images of each curated and extra class, ``size`` pixels square (default: the curated images'),
    of which ``label_noise`` name another class."""

    per_class: int = Field(gt=0)
    extra_classes: int = Field(0, ge=0, le=999)
    label_noise: Probability = 0.0
    size: int | None = Field(None, ge=32)


def extra_class_names(count: int) -> list[str]:
    return [f"{EXTRA_PREFIX}{number:03d}" for number in range(count)]


def noisy_classes(classes: list[str], noisy: NoisySet) -> list[str]:
    """The noisy set's classes: the curated ones, then the extra ones."""
    return [*classes, *extra_class_names(noisy.extra_classes)]


def _primitive(kind: int, cx: float, cy: float, rx: float, ry: float, angle: float) -> np.ndarray:
    if kind == 0:
        return ellipse(cx, cy, rx, ry, angle)
    if kind == 1:
        return rounded_rect(cx - rx, cy - ry, cx + rx, cy + ry, 0.3 * min(rx, ry))
    if kind == 2:
        return poly((cx, cy - ry), (cx + rx, cy + ry), (cx - rx, cy + ry))
    return poly((cx - rx, cy - ry), (cx + rx, cy - 0.4 * ry), (cx + rx, cy + ry), (cx - rx, cy + 0.4 * ry))


def extra_shape(class_name: str, rng: np.random.Generator, palette: Palette) -> Shape:
    """Extra class ``class_name``: 3 to 6 parts (ellipses, rounded boxes, triangles, slanted boxes) whose kinds,
    places, sizes and palette roles are fixed by the class's number; each image moves and resizes them a little."""
    number = int(class_name.removeprefix(EXTRA_PREFIX))
    layout = np.random.default_rng([LAYOUT_TAG, number])
    roles = [f.name for f in fields(Palette)]
    parts = []
    for index in range(int(layout.integers(3, 7))):
        kind = int(layout.integers(4))
        centre = layout.uniform(-0.55, 0.55, 2) * (0.3 if index == 0 else 1.0) + rng.normal(0.0, 0.04, 2)
        radii = layout.uniform(0.15, 0.6 if index == 0 else 0.35, 2) * rng.uniform(0.9, 1.1)
        angle = float(layout.uniform(-40, 40))
        colour = getattr(palette, roles[int(layout.integers(len(roles)))])
        parts.append(Part(_primitive(kind, centre[0], centre[1], radii[0], radii[1], angle), colour))
    return parts


def noisy_labels(count: int, num_classes: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Item ``i`` is drawn as class ``i % num_classes``; exactly ``round(noise * count)`` items, chosen at random,
    are labelled with another class (uniform over the others). Returns (drawn, labelled) class indices."""
    drawn = np.arange(count) % num_classes
    rng = np.random.default_rng([seed, LABEL_TAG])
    wrong = rng.permutation(count)[: round(noise * count)]
    labelled = drawn.copy()
    labelled[wrong] = (drawn[wrong] + rng.integers(1, num_classes, len(wrong))) % num_classes
    return drawn, labelled
