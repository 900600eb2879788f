"""``toon_objects``: flat-coloured, thick-outlined cartoon objects for toonnet.

Each class it can draw (the 12 ToonNet classes) is a parametric
composition of shapes, found by its name in ``CLASS_SHAPES``; a spec may use
any of them in any order. Every image draws one with its own random pose, size,
aspect, colours, outline thickness, background (plain, gradient or a small
scene with clutter) and sometimes an occluding object in front.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from datasets.generators.base import register_generator
from datasets.generators._draw import (
    RGB,
    Part,
    bezier,
    draw_parts,
    ellipse,
    jitter_colour,
    poly,
    pose_matrix,
    random_colour,
    rect,
    rounded_rect,
    shade,
    solid,
    vertical_gradient,
)
import datasets.generators.toon_nuisances as nz
from datasets.generators.degrade import degrade_all
from datasets.generators._parallel import ItemMaker, make_all
from datasets.generators._per_class import PerClassParams, per_class_plan
from datasets.generators.toon_styles import TEXTURES, cel_render, draw_labels, hand_drawing
from datasets.manifest import ManifestItem

NAME = "toon_objects"
WHITE: RGB = (250, 250, 250)
BLACK: RGB = (30, 30, 35)
Shape = list[Part]


class ToonObjectsParams(PerClassParams):
    """``per_class`` images of ``size`` x ``size`` pixels for each class, with the ``nuisances`` that make them hard."""

    nuisances: nz.ToonNuisances = nz.ToonNuisances()


def _eye(x: float, y: float, r: float, pupil: RGB = BLACK) -> Shape:
    return [Part(ellipse(x, y, r, r * 1.15), WHITE), Part(ellipse(x + r * 0.2, y + r * 0.15, r * 0.5, r * 0.6), pupil, outline=False)]


def android_robot(rng: np.random.Generator) -> Shape:
    green = jitter_colour(rng, (164, 198, 57), 18)
    head_h, body_w = rng.uniform(0.3, 0.42), rng.uniform(0.38, 0.5)
    arm_angle = rng.choice([0.0, rng.uniform(-50, 50)])
    parts = [
        Part(bezier((-0.15, -0.6), (-0.22, -0.75), (-0.3, -0.85)), green, closed=False, width=0.05),
        Part(bezier((0.15, -0.6), (0.22, -0.75), (0.3, -0.85)), green, closed=False, width=0.05),
        Part(ellipse(0, -0.3, body_w, head_h, 0, 180, 360), green),
        Part(rounded_rect(-body_w, -0.25, body_w, 0.42, 0.1), green),
        Part(rounded_rect(-0.25, 0.35, -0.07, 0.78, 0.08), green),
        Part(rounded_rect(0.07, 0.35, 0.25, 0.78, 0.08), green),
    ]
    for side in (-1, 1):
        arm = rounded_rect(-0.07, -0.04, 0.07, 0.5, 0.07)
        a = np.radians(arm_angle * side)
        arm = arm @ np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]]) + [side * (body_w + 0.12), -0.22]
        parts.append(Part(arm, green))
    parts += [Part(ellipse(s * body_w * 0.4, -0.3 - head_h * 0.45, 0.05, 0.05), WHITE) for s in (-1, 1)]
    return parts


def car(rng: np.random.Generator) -> Shape:
    body = random_colour(rng, (0.5, 0.9), (0.6, 1.0))
    glass = jitter_colour(rng, (170, 215, 240), 10)
    roof, length = rng.uniform(-0.55, -0.38), rng.uniform(0.8, 0.95)
    wheel_r = rng.uniform(0.16, 0.22)
    parts = [
        Part(rounded_rect(-length, -0.12, length, 0.3, 0.12), body, group=1),
        Part(poly((-0.55, -0.1), (-0.32, roof), (0.3, roof), (0.58, -0.1)), body, group=1),
        Part(poly((-0.44, -0.14), (-0.27, roof + 0.06), (-0.04, roof + 0.06), (-0.04, -0.14)), glass),
        Part(poly((0.04, -0.14), (0.04, roof + 0.06), (0.26, roof + 0.06), (0.45, -0.14)), glass),
        Part(ellipse(length - 0.07, 0.02, 0.06, 0.05), (255, 230, 90)),
    ]
    for x in (-length + 0.38, length - 0.38):
        parts += [Part(ellipse(x, 0.3, wheel_r, wheel_r), BLACK), Part(ellipse(x, 0.3, wheel_r * 0.45, wheel_r * 0.45), (190, 190, 200))]
    return parts


def elephant(rng: np.random.Generator) -> Shape:
    skin = jitter_colour(rng, (150, 160, 185), 15)
    dark = shade(skin, 0.8)
    trunk_end = (rng.uniform(0.75, 1.0), rng.uniform(0.1, 0.6))
    parts = [Part(rect(x, 0.15, x + 0.2, 0.75), skin) for x in (-0.5, -0.15, 0.2)]
    parts += [
        Part(bezier((-0.6, -0.05), (-0.8, 0.1), (-0.8, 0.3)), skin, closed=False, width=0.04),
        Part(ellipse(-0.05, 0.0, 0.62, 0.42), skin, group=1),
        Part(ellipse(0.55, -0.25, 0.3, 0.3), skin, group=1),
        Part(bezier((0.7, -0.15), (0.95, -0.05), trunk_end), skin, closed=False, width=0.15),
        Part(ellipse(0.38, -0.2, 0.2, rng.uniform(0.25, 0.33), -10), dark),
        Part(poly((0.68, 0.0), (0.78, 0.12), (0.62, 0.04)), WHITE),
        Part(ellipse(0.66, -0.35, 0.035, 0.045), BLACK, outline=False),
    ]
    return parts


def dog(rng: np.random.Generator) -> Shape:
    fur = jitter_colour(rng, [(190, 130, 70), (230, 200, 150), (120, 80, 50), (240, 240, 235)][rng.integers(4)], 12)
    ear = shade(fur, 0.6)
    tail_up = rng.uniform(-0.7, -0.2)
    parts = [Part(rect(x, 0.2, x + 0.14, 0.72), fur) for x in (-0.45, -0.25, 0.15, 0.32)]
    parts += [
        Part(bezier((-0.45, 0.0), (-0.7, -0.1), (-0.72, tail_up)), fur, closed=False, width=0.08),
        Part(ellipse(-0.05, 0.12, 0.52, 0.27), fur),
        Part(ellipse(0.5, -0.32, 0.27, 0.25), fur, group=2),
        Part(ellipse(0.74, -0.22, 0.17, 0.11), shade(fur, 1.25), group=2),
        Part(ellipse(0.36, -0.2, 0.1, 0.24, 15), ear),
        Part(ellipse(0.89, -0.26, 0.05, 0.04), BLACK),
        Part(ellipse(0.56, -0.4, 0.035, 0.045), BLACK, outline=False),
        Part(bezier((0.62, -0.08), (0.72, -0.03), (0.82, -0.12)), BLACK, closed=False, width=0.02, outline=False),
    ]
    if rng.random() < 0.5:
        parts.insert(-3, Part(rect(0.3, -0.12, 0.42, 0.05), (220, 40, 40)))
    return parts


def flower(rng: np.random.Generator) -> Shape:
    green = jitter_colour(rng, (70, 170, 60), 15)
    petal = random_colour(rng, (0.4, 0.9), (0.8, 1.0))
    centre = jitter_colour(rng, (250, 200, 40), 20)
    petals, cy = int(rng.integers(5, 9)), rng.uniform(-0.45, -0.3)
    parts = [
        Part(bezier((0, 0.9), (rng.uniform(-0.2, 0.2), 0.35), (0, cy)), green, closed=False, width=0.07),
        Part(ellipse(0.2, 0.5, 0.2, 0.08, -30), green),
        Part(ellipse(-0.18, 0.3, 0.18, 0.07, 30), green),
    ]
    length = rng.uniform(0.18, 0.26)
    for k in range(petals):
        angle = 360.0 * k / petals
        t = np.radians(angle)
        parts.append(Part(ellipse(np.cos(t) * length * 1.2, cy + np.sin(t) * length * 1.2, length, length * 0.55, angle), petal))
    parts.append(Part(ellipse(0, cy, 0.14, 0.14), centre))
    return parts


def cat(rng: np.random.Generator) -> Shape:
    fur = jitter_colour(rng, [(240, 150, 60), (150, 150, 160), (60, 60, 70), (245, 240, 230)][rng.integers(4)], 12)
    eye = jitter_colour(rng, (120, 200, 80), 30)
    parts = [
        Part(bezier((0.3, 0.65), (0.8, 0.6), (0.65, rng.uniform(-0.1, 0.3))), fur, closed=False, width=0.1),
        Part(ellipse(0, 0.35, 0.38, 0.42), fur),
        Part(poly((-0.33, -0.5), (-0.33, -0.92), (-0.05, -0.66)), fur, group=3),
        Part(poly((0.33, -0.5), (0.33, -0.92), (0.05, -0.66)), fur, group=3),
        Part(ellipse(0, -0.35, 0.36, 0.32), fur, group=3),
        Part(ellipse(-0.14, -0.4, 0.07, 0.09), eye),
        Part(ellipse(0.14, -0.4, 0.07, 0.09), eye),
        Part(ellipse(-0.14, -0.4, 0.02, 0.07), BLACK, outline=False),
        Part(ellipse(0.14, -0.4, 0.02, 0.07), BLACK, outline=False),
        Part(poly((-0.05, -0.28), (0.05, -0.28), (0, -0.22)), (240, 130, 150)),
    ]
    for side in (-1, 1):
        for dy in (-0.04, 0.04):
            parts.append(Part(poly((side * 0.12, -0.22 + dy), (side * 0.5, -0.26 + 2 * dy)), BLACK, closed=False, width=0.015, outline=False))
    return parts


def bee(rng: np.random.Generator) -> Shape:
    yellow = jitter_colour(rng, (250, 200, 30), 15)
    wing = jitter_colour(rng, (200, 230, 250), 10)
    rx, ry = rng.uniform(0.5, 0.65), rng.uniform(0.32, 0.42)
    parts = [
        Part(ellipse(-0.1, -ry - 0.1, 0.2, 0.3, -20), wing),
        Part(ellipse(0.18, -ry - 0.08, 0.18, 0.28, 20), wing),
        Part(poly((-rx + 0.05, -0.08), (-rx - 0.2, 0.0), (-rx + 0.05, 0.08)), BLACK),
        Part(ellipse(0, 0, rx, ry), yellow),
    ]
    for x in (-0.5 * rx, -0.05, 0.4 * rx):
        half = ry * np.sqrt(max(0.0, 1 - (x / rx) ** 2)) * 0.97
        parts.append(Part(ellipse(x, 0, 0.08, half), BLACK, outline=False))
    hx = rx + 0.12
    parts += [
        Part(bezier((hx, -0.15), (hx + 0.05, -0.4), (hx + 0.2, -0.5)), BLACK, closed=False, width=0.03),
        Part(ellipse(hx, 0, 0.2, 0.2), BLACK),
        Part(ellipse(hx + 0.07, -0.05, 0.05, 0.05), WHITE, outline=False),
    ]
    return parts


def penguin(rng: np.random.Generator) -> Shape:
    dark = jitter_colour(rng, (35, 45, 70), 10)
    orange = jitter_colour(rng, (250, 150, 30), 12)
    wing_angle = rng.uniform(5, 40)
    return [
        Part(ellipse(-0.42, 0.1, 0.1, 0.35, wing_angle), dark),
        Part(ellipse(0.42, 0.1, 0.1, 0.35, -wing_angle), dark),
        Part(ellipse(-0.15, 0.82, 0.16, 0.07), orange),
        Part(ellipse(0.15, 0.82, 0.16, 0.07), orange),
        Part(ellipse(0, 0.08, 0.42, 0.72), dark),
        Part(ellipse(0, 0.22, 0.3, 0.55), WHITE, outline=False),
        *_eye(-0.13, -0.36, 0.07),
        *_eye(0.13, -0.36, 0.07),
        Part(poly((-0.09, -0.24), (0.09, -0.24), (0, -0.1)), orange),
    ]


def tree(rng: np.random.Generator) -> Shape:
    leaf = jitter_colour(rng, (60, 160, 60), 20)
    bark = jitter_colour(rng, (130, 85, 45), 12)
    parts = [Part(rect(-0.1, 0.0, 0.1, 0.9), bark)]
    if rng.random() < 0.5:
        for y, w in ((0.3, 0.6), (-0.1, 0.48), (-0.45, 0.36)):
            parts.append(Part(poly((-w, y), (w, y), (0, y - 0.55)), leaf))
        return parts
    for cx, cy, r in ((0, -0.4, 0.45), (-0.35, -0.1, 0.3), (0.35, -0.1, 0.3), (0, -0.7, 0.3)):
        parts.append(Part(ellipse(cx, cy, r, r), leaf, group=4))
    if rng.random() < 0.5:
        parts += [Part(ellipse(x, y, 0.06, 0.06), (220, 40, 40)) for x, y in ((-0.2, -0.3), (0.25, -0.5), (0.1, -0.1))]
    return parts


def winnie_bear(rng: np.random.Generator) -> Shape:
    fur = jitter_colour(rng, (235, 175, 55), 12)
    shirt = jitter_colour(rng, (215, 40, 40), 12)
    return [
        Part(ellipse(-0.4, 0.3, 0.12, 0.24, 25), fur),
        Part(ellipse(0.4, 0.3, 0.12, 0.24, -25), fur),
        Part(ellipse(0, 0.42, 0.4, 0.42), fur),
        Part(ellipse(0, 0.18, 0.42, 0.3), shirt),
        Part(ellipse(-0.27, -0.62, 0.11, 0.11), fur, group=5),
        Part(ellipse(0.27, -0.62, 0.11, 0.11), fur, group=5),
        Part(ellipse(0, -0.35, 0.34, 0.31), fur, group=5),
        Part(ellipse(0, -0.22, 0.15, 0.11), shade(fur, 1.3)),
        Part(ellipse(0, -0.28, 0.06, 0.04), BLACK),
        Part(ellipse(-0.12, -0.42, 0.03, 0.04), BLACK, outline=False),
        Part(ellipse(0.12, -0.42, 0.03, 0.04), BLACK, outline=False),
    ]


def panda(rng: np.random.Generator) -> Shape:
    black = jitter_colour(rng, (35, 35, 40), 6)
    white = jitter_colour(rng, (245, 245, 240), 5)
    return [
        Part(ellipse(-0.22, 0.75, 0.15, 0.12), black),
        Part(ellipse(0.22, 0.75, 0.15, 0.12), black),
        Part(ellipse(0, 0.38, 0.42, 0.42), white),
        Part(ellipse(-0.33, 0.25, 0.13, 0.27, 30), black),
        Part(ellipse(0.33, 0.25, 0.13, 0.27, -30), black),
        Part(ellipse(-0.28, -0.63, 0.12, 0.12), black),
        Part(ellipse(0.28, -0.63, 0.12, 0.12), black),
        Part(ellipse(0, -0.35, 0.37, 0.32), white),
        Part(ellipse(-0.14, -0.38, 0.08, 0.11, 30), black, outline=False),
        Part(ellipse(0.14, -0.38, 0.08, 0.11, -30), black, outline=False),
        Part(ellipse(-0.13, -0.4, 0.025, 0.03), WHITE, outline=False),
        Part(ellipse(0.13, -0.4, 0.025, 0.03), WHITE, outline=False),
        Part(ellipse(0, -0.24, 0.06, 0.04), black, outline=False),
    ]


def cloud(rng: np.random.Generator) -> Shape:
    puff = jitter_colour(rng, (240, 245, 252), 8) if rng.random() < 0.7 else jitter_colour(rng, (150, 160, 175), 10)
    parts = [Part(rounded_rect(-0.75, -0.05, 0.75, 0.3, 0.17), puff, group=6)]
    for cx, cy, r in ((-0.45, -0.05, 0.3), (0.0, -0.28, rng.uniform(0.35, 0.45)), (0.42, -0.05, 0.32)):
        parts.append(Part(ellipse(cx + rng.uniform(-0.05, 0.05), cy, r, r), puff, group=6))
    extra = rng.integers(3)
    if extra == 1:
        parts = [Part(poly((x, 0.4), (x - 0.05, 0.55), (x, 0.62), (x + 0.05, 0.55)), (80, 150, 240)) for x in (-0.4, 0.0, 0.4)] + parts
    elif extra == 2:
        parts += [Part(ellipse(x, -0.05, 0.04, 0.05), BLACK, outline=False) for x in (-0.15, 0.15)]
        parts.append(Part(ellipse(0, 0.05, 0.12, 0.07, 0, 20, 160, 12), BLACK, closed=False, width=0.025, outline=False))
    return parts


CLASS_SHAPES: dict[str, Callable[[np.random.Generator], Shape]] = {
    "android robot": android_robot,
    "car": car,
    "elephant": elephant,
    "dog": dog,
    "flower": flower,
    "cat": cat,
    "bee": bee,
    "penguin": penguin,
    "tree": tree,
    "winnie bear": winnie_bear,
    "panda": panda,
    "cloud": cloud,
}


def background(rng: np.random.Generator, size: int, outline_px: float) -> np.ndarray:
    kind = rng.integers(3)
    if kind == 0:
        return solid(size, random_colour(rng, (0.05, 0.5), (0.75, 1.0)))
    if kind == 1:
        return vertical_gradient(size, random_colour(rng, (0.1, 0.6), (0.7, 1.0)), random_colour(rng, (0.1, 0.6), (0.6, 1.0)))
    horizon = rng.uniform(0.55, 0.8) * size
    image = vertical_gradient(size, jitter_colour(rng, (140, 200, 250), 15), jitter_colour(rng, (215, 235, 250), 10))
    image[int(horizon):] = jitter_colour(rng, (110, 190, 90), 25)
    for _ in range(int(rng.integers(1, 5))):
        x, y, r = rng.uniform(0, 1) * size, rng.uniform(0.1, 1) * size, rng.uniform(0.04, 0.12) * size
        shape = ellipse(0, 0, 1, 1) if rng.random() < 0.5 else rect(-1, -1, 1, 1)
        draw_parts(image, [Part(shape, random_colour(rng))], pose_matrix(x, y, r, rng.uniform(0, 90)), outline_px * 0.7)
    return image


def occluder(rng: np.random.Generator) -> Shape:
    colour = random_colour(rng, (0.3, 0.8), (0.5, 0.95))
    kind = rng.integers(3)
    if kind == 0:
        return [Part(rounded_rect(-1, -0.6, 1, 0.6, 0.2), colour)]
    if kind == 1:
        return [Part(ellipse(0, 0, 1, 1), colour)]
    return [Part(ellipse(x, y, 0.55, 0.55), colour, group=7) for x, y in ((-0.5, 0.2), (0.0, -0.2), (0.5, 0.2))]


def _place_object(
    image: np.ndarray, shape: Shape, matrix: np.ndarray, outline_px: float, style: str, rng: np.random.Generator
) -> np.ndarray:
    """Draw the object flat with outlines, or cel-shaded by a random light with Sobel contours (§3.2)."""
    if style != "cel":
        draw_parts(image, shape, matrix, outline_px)
        return image
    labels = draw_labels(shape, matrix, image.shape[0])
    colours = np.array([WHITE] + [part.colour for part in shape], dtype=np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    return cel_render(image, labels, colours, np.array([np.cos(angle), np.sin(angle), rng.uniform(0.3, 1.0)]))


def _clutter(rng: np.random.Generator, image: np.ndarray, class_name: str, outline_px: float) -> None:
    """One or two small objects of other classes drawn into the background."""
    others = [name for name in CLASS_SHAPES if name != class_name]
    size = image.shape[0]
    for _ in range(int(rng.integers(1, 3))):
        shape = CLASS_SHAPES[others[int(rng.integers(len(others)))]](rng)
        where = rng.uniform(0.1, 0.9, 2) * size
        draw_parts(image, shape, pose_matrix(where[0], where[1], size * rng.uniform(0.1, 0.18), rng.uniform(-30, 30)), outline_px * 0.6)


def render(rng: np.random.Generator, class_name: str, size: int, nuisances: nz.ToonNuisances = nz.ToonNuisances()) -> np.ndarray:
    """One image; the nuisances draw from a child RNG, so with all of them off the image is the plain stand-in's."""
    extra = rng.spawn(1)[0]
    style = nz.pick_style(extra, nuisances.styles)
    outline_px = size / 128 * rng.uniform(1.0, 3.0)
    image = background(rng, size, outline_px)
    if extra.random() < nuisances.clutter:
        _clutter(extra, image, class_name, outline_px)
    lookalike = class_name in nz.LOOKALIKES and extra.random() < nuisances.lookalike
    shape = nz.sitting_animal(extra, class_name) if lookalike else CLASS_SHAPES[class_name](rng)
    if extra.random() < nuisances.recolour:
        shape = nz.recolour(shape, extra.uniform(-nuisances.hue_shift, nuisances.hue_shift))
    shape = nz.design_variant(shape, int(extra.integers(nuisances.designs)))
    scale = size * rng.uniform(0.3, 0.46)
    centre = size / 2 + rng.uniform(-0.14, 0.14, 2) * size
    matrix = pose_matrix(centre[0], centre[1], scale, rng.uniform(-25, 25), bool(rng.random() < 0.5), rng.uniform(0.85, 1.15))
    image = _place_object(image, shape, matrix, outline_px, style, extra)
    if extra.random() < nuisances.white_gaps:
        image = nz.white_gaps(image, draw_labels(shape, matrix, size) > 0, extra, nuisances.gap_fraction)
    if rng.random() < 0.35:
        angle = rng.uniform(0, 2 * np.pi)
        where = centre + np.array([np.cos(angle), np.sin(angle)]) * scale * rng.uniform(0.6, 1.0)
        draw_parts(image, occluder(rng), pose_matrix(where[0], where[1], size * rng.uniform(0.1, 0.2), rng.uniform(0, 180)), outline_px)
    if style in TEXTURES:
        image = hand_drawing(image, extra, style)
    return degrade_all(image, extra, nuisances.degradations)


def plan(params: ToonObjectsParams, classes: list[str], seed: int, folder: Path) -> tuple[int, ItemMaker]:
    return per_class_plan(NAME, partial(render, nuisances=params.nuisances), CLASS_SHAPES, params, classes, seed, folder)


@register_generator(NAME, tasks=("classification",), params=ToonObjectsParams, classes=CLASS_SHAPES)
def generate(params: ToonObjectsParams, classes: list[str], seed: int, folder: Path) -> list[ManifestItem]:
    """``per_class`` images of every class in ``classes``, each drawn by its name."""
    return make_all(plan, params, classes, seed, folder, desc=NAME)
