"""``clipart_glyphs``: clip-art illustrations of the 23 illustration classes.

Each class is drawn by its name (``CLASS_SHAPES``); a spec may use any of
them in any order.

A different look from ``toon_objects``: no heavy cartoon outlines but one of
three clip-art styles per image -- flat vector art with a gradient sheen and a
soft drop shadow, stroked line icons, or duotone art in shades of one hue --
on white, tinted, badge or confetti backgrounds, with random pose, palette
and an occasional sticker covering part of the object. The spec's
``nuisances`` block (``glyph_nuisances``) adds what makes the stand-in as hard
as the paper's clip art; with the block left out the images are unchanged.
Its ``noisy`` block (``glyph_noisy``) adds the paper's noisy training set,
drawn the same way from its own random streams, in the ``noisy`` split.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from pathlib import Path

import cv2
import numpy as np

from datasets.generators.base import register_generator
from datasets.generators._draw import (
    RGB,
    Part,
    draw_parts,
    ellipse,
    item_rng,
    jitter_colour,
    opaque_id,
    pose_matrix,
    random_colour,
    rounded_rect,
    shade,
    solid,
    write_png,
)
import datasets.generators.glyph_nuisances as gn
from datasets.generators._glyph_shapes import CLASS_SHAPES, Palette, Shape
from datasets.generators.glyph_noisy import EXTRA_PREFIX, NoisySet, extra_shape, noisy_classes, noisy_labels
from datasets.generators.degrade import degrade_all
from datasets.generators.toon_nuisances import design_variant
from datasets.generators._parallel import ItemMaker, make_all
from datasets.generators._per_class import PerClassParams, per_class_plan
from datasets.manifest import NOISY_SPLIT, ManifestItem

NAME = "clipart_glyphs"
NOISY_NAME = "clipart_glyphs_noisy"
STYLES = ("flat", "icon", "duotone")


class ClipartGlyphsParams(PerClassParams):
    """``per_class`` images of ``size`` x ``size`` pixels for each class, with the ``nuisances`` that make them hard,
    and optionally the ``noisy`` training set (``glyph_noisy``)."""

    nuisances: gn.ClipartNuisances = gn.ClipartNuisances()
    noisy: NoisySet | None = None


def _hue_colour(hue: float, saturation: float, value: float) -> RGB:
    hsv = np.array([[[hue % 180, saturation * 255, value * 255]]], dtype=np.uint8)
    return tuple(int(v) for v in cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0])  # type: ignore[return-value]


def full_palette(rng: np.random.Generator) -> Palette:
    hue = rng.uniform(0, 180)
    return Palette(
        main=_hue_colour(hue, rng.uniform(0.5, 0.9), rng.uniform(0.65, 0.95)),
        second=_hue_colour(hue + rng.choice([-30, 30, 90]), rng.uniform(0.3, 0.8), rng.uniform(0.6, 0.95)),
        accent=random_colour(rng, (0.6, 1.0), (0.8, 1.0)),
        dark=jitter_colour(rng, (55, 55, 70), 12),
        light=jitter_colour(rng, (240, 240, 235), 6),
        metal=jitter_colour(rng, (180, 185, 195), 10),
        wood=jitter_colour(rng, (160, 105, 55), 15),
    )


def duotone_palette(rng: np.random.Generator) -> Palette:
    hue, sat = rng.uniform(0, 180), rng.uniform(0.4, 0.8)
    return Palette(
        main=_hue_colour(hue, sat, 0.7),
        second=_hue_colour(hue, sat * 0.6, 0.85),
        accent=_hue_colour(hue, sat, 0.45),
        dark=_hue_colour(hue, sat, 0.25),
        light=_hue_colour(hue, sat * 0.15, 0.98),
        metal=_hue_colour(hue, sat * 0.4, 0.75),
        wood=_hue_colour(hue, sat, 0.55),
    )


def background(rng: np.random.Generator, size: int) -> np.ndarray:
    kind = rng.integers(4)
    paper = (255, 255, 255) if rng.random() < 0.5 else random_colour(rng, (0.03, 0.2), (0.92, 1.0))
    image = solid(size, paper)
    if kind == 1:
        shape = ellipse(0, 0, 1, 1) if rng.random() < 0.5 else rounded_rect(-1, -1, 1, 1, 0.3)
        badge = random_colour(rng, (0.15, 0.5), (0.8, 1.0))
        draw_parts(image, [Part(shape, badge)], pose_matrix(size / 2, size / 2, size * rng.uniform(0.4, 0.5), 0))
    elif kind == 2:
        for _ in range(int(rng.integers(6, 16))):
            x, y = rng.uniform(0, size, 2)
            dot = ellipse(0, 0, 1, 1, n=12) if rng.random() < 0.5 else rounded_rect(-1, -0.4, 1, 0.4, 0.3)
            draw_parts(image, [Part(dot, random_colour(rng, (0.3, 0.7), (0.8, 1.0)))], pose_matrix(x, y, size * rng.uniform(0.01, 0.03), rng.uniform(0, 180)))
    return image


def _mask(shape: list[Part], matrix: np.ndarray, size: int, outline_px: float) -> np.ndarray:
    mask = np.zeros((size, size), dtype=np.uint8)
    draw_parts(mask, shape, matrix, outline_px, outline_colour=(255, 255, 255), fill_override=(255, 255, 255))
    return mask


def flat_with_sheen(rng: np.random.Generator, image: np.ndarray, shape: list[Part], matrix: np.ndarray) -> np.ndarray:
    """Vector-art fills, a linear light-to-dark sheen across the object and a soft drop shadow."""
    size = image.shape[0]
    layer = np.zeros_like(image)
    draw_parts(layer, shape, matrix)
    alpha = _mask(shape, matrix, size, 0.0).astype(np.float32) / 255.0
    offset = size * rng.uniform(0.015, 0.04)
    shift = np.float32([[1, 0, offset], [0, 1, offset]])
    shadow = cv2.GaussianBlur(cv2.warpAffine(alpha, shift, (size, size)), (0, 0), size * 0.02)
    base = image.astype(np.float32) * (1 - 0.35 * shadow[..., None])
    angle = rng.uniform(0, 2 * np.pi)
    grid = np.linspace(-0.5, 0.5, size, dtype=np.float32)
    ramp = np.cos(angle) * grid[None, :] + np.sin(angle) * grid[:, None]
    sheen = 1.0 + rng.uniform(0.2, 0.5) * ramp
    lit = np.clip(layer.astype(np.float32) * sheen[..., None], 0, 255)
    out = base * (1 - alpha[..., None]) + lit * alpha[..., None]
    return np.round(out).astype(np.uint8)


def _shape(rng: np.random.Generator, extra: np.random.Generator, class_name: str, palette: Palette, nuisances: gn.ClipartNuisances) -> Shape:
    """The class's own shape (an extra class's for the noisy set) or its look-alike family's, in one of ``designs`` designs."""
    if class_name in gn.FAMILY_OF and extra.random() < nuisances.lookalike:
        shape = gn.lookalike_shape(extra, palette, class_name)
    elif class_name.startswith(EXTRA_PREFIX):
        shape = extra_shape(class_name, rng, palette)
    else:
        shape = CLASS_SHAPES[class_name](rng, palette)
    return design_variant(shape, int(extra.integers(nuisances.designs)))


def render(rng: np.random.Generator, class_name: str, size: int, nuisances: gn.ClipartNuisances = gn.ClipartNuisances()) -> np.ndarray:
    """One image; the nuisances draw from a child RNG, so with all of them off the image is the plain stand-in's."""
    extra = rng.spawn(1)[0]
    style = STYLES[int(rng.integers(len(STYLES)))]
    palette = duotone_palette(rng) if style == "duotone" else full_palette(rng)
    if nuisances.palette_size is not None:
        palette = gn.limited_palette(extra, palette, nuisances.palette_size)
    shape = _shape(rng, extra, class_name, palette, nuisances)
    image = background(rng, size)
    centre = size / 2 + rng.uniform(-0.1, 0.1, 2) * size
    matrix = pose_matrix(centre[0], centre[1], size * rng.uniform(0.32, 0.45), rng.uniform(-12, 12), bool(rng.random() < 0.5), rng.uniform(0.9, 1.1))
    line_px = size / 128 * rng.uniform(1.2, 2.5)
    alpha = _mask(shape, matrix, size, 0.0).astype(np.float32) / 255.0
    if extra.random() < nuisances.shadow:
        image = gn.drop_shadow(image, alpha, extra)
    if style == "flat":
        image = flat_with_sheen(rng, image, shape, matrix)
    elif style == "icon":
        ink = random_colour(rng, (0.3, 0.9), (0.15, 0.45))
        paper = (255, 255, 255) if rng.random() < 0.5 else shade(random_colour(rng), 1.8)
        line_art = [replace(part, colour=paper if part.outline else ink) for part in shape]
        draw_parts(image, line_art, matrix, line_px, outline_colour=ink)
    else:
        draw_parts(image, shape, matrix, line_px * 0.6, outline_colour=palette.dark)
    if extra.random() < nuisances.gradient:
        image = gn.gradient_fill(image, alpha, extra)
    if extra.random() < nuisances.outline:
        image = gn.silhouette_outline(image, alpha, nuisances.outline_px, palette.dark)
    if extra.random() < nuisances.sketchy:
        image = gn.sketch_outlines(image, shape, matrix, extra, nuisances.sketch_jitter_px, palette.dark)
    if rng.random() < 0.25:
        angle = rng.uniform(0, 2 * np.pi)
        where = centre + np.array([np.cos(angle), np.sin(angle)]) * size * rng.uniform(0.2, 0.35)
        sticker = [Part(ellipse(0, 0, 1, 1) if rng.random() < 0.5 else rounded_rect(-1, -1, 1, 1, 0.25), random_colour(rng, (0.5, 0.9), (0.8, 1.0)))]
        draw_parts(image, sticker, pose_matrix(where[0], where[1], size * rng.uniform(0.08, 0.15), rng.uniform(0, 90)), line_px * 0.5, (255, 255, 255))
    return degrade_all(image, extra, nuisances.degradations)


def plan(params: ClipartGlyphsParams, classes: list[str], seed: int, folder: Path) -> tuple[int, ItemMaker]:
    return per_class_plan(NAME, partial(render, nuisances=params.nuisances), CLASS_SHAPES, params, classes, seed, folder)


def noisy_item(
    params: ClipartGlyphsParams, names: list[str], drawn: np.ndarray, labelled: np.ndarray, seed: int, folder: Path, index: int
) -> ManifestItem:
    """Noisy image ``index``: drawn as class ``drawn[index]``, labelled ``labelled[index]``, in the ``noisy`` split."""
    item_id = opaque_id(NOISY_NAME, seed, index)
    size = params.noisy.size if params.noisy is not None and params.noisy.size is not None else params.size
    image = render(item_rng(seed, NOISY_NAME, index), names[drawn[index]], size, params.nuisances)
    return ManifestItem(id=item_id, path=write_png(folder, item_id, image), split=NOISY_SPLIT, label=names[labelled[index]])


def noisy_plan(params: ClipartGlyphsParams, classes: list[str], seed: int, folder: Path) -> tuple[int, ItemMaker]:
    """The items of the spec's ``noisy`` block."""
    if params.noisy is None:
        raise ValueError(f"{NAME}: the spec has no noisy block")
    names = noisy_classes(classes, params.noisy)
    drawn, labelled = noisy_labels(params.noisy.per_class * len(names), len(names), params.noisy.label_noise, seed)
    return len(drawn), partial(noisy_item, params, names, drawn, labelled, seed, folder)


def generate_noisy(params: ClipartGlyphsParams, classes: list[str], seed: int, folder: Path) -> list[ManifestItem]:
    """The noisy training set of the spec's ``noisy`` block; none without one."""
    return make_all(noisy_plan, params, classes, seed, folder, desc=NOISY_NAME) if params.noisy is not None else []


@register_generator(NAME, tasks=("classification",), params=ClipartGlyphsParams, classes=CLASS_SHAPES, noisy=generate_noisy)
def generate(params: ClipartGlyphsParams, classes: list[str], seed: int, folder: Path) -> list[ManifestItem]:
    """``per_class`` images of every class in ``classes``, each drawn by its name."""
    return make_all(plan, params, classes, seed, folder, desc=NAME)
