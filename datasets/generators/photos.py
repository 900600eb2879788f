"""``photo_crops``: real photographs and a flat-shaded cartoon reference set.

Photo items (domain ``photo``) are random crops of the colour photographs
that ship inside scikit-image and scikit-learn (no download needed), each
with its own flip, scale, small rotation and colour jitter. Cartoon items
(domain ``cartoon``) are procedural scenes in a cartoon look: a sky gradient
quantised to a few bands, hills, sun, clouds, houses, trees and characters,
all flat colours with dark outlines, in the house style of the ``style``
block (``cartoon_style``: a colour cast and the outlines' ink).
"""

from __future__ import annotations

from functools import lru_cache, partial
from pathlib import Path

import cv2
import numpy as np
from pydantic import Field

from datasets.components import Params
from datasets.generators.base import register_generator
from datasets.generators._draw import (
    RGB,
    Part,
    draw_parts,
    ellipse,
    item_rng,
    jitter_colour,
    opaque_id,
    poly,
    pose_matrix,
    random_colour,
    rect,
    shade,
    vertical_gradient,
    write_png,
)
from datasets.generators.cartoon_style import CartoonStyle, grade, grade_parts
from datasets.generators.toon_objects import CLASS_SHAPES
from datasets.generators._parallel import ItemMaker, make_all
from datasets.manifest import ManifestItem

NAME = "photo_crops"
SKIMAGE_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")
SKLEARN_PHOTOS = ("china.jpg", "flower.jpg")
SKIES: tuple[tuple[RGB, RGB], ...] = (((90, 160, 235), (200, 230, 250)), ((250, 140, 90), (255, 220, 150)), ((40, 50, 110), (120, 90, 160)), ((120, 200, 230), (240, 250, 255)))
CHARACTERS = tuple(CLASS_SHAPES[name] for name in ("android robot", "dog", "cat", "penguin", "panda"))


class PhotoCropsParams(Params):
    photos: int = Field(gt=0)
    cartoons: int = Field(gt=0)
    size: int = Field(ge=32)
    style: CartoonStyle = CartoonStyle()


@lru_cache(maxsize=1)
def source_photos() -> tuple[np.ndarray, ...]:
    """The bundled RGB photographs, in a fixed order (``SKIMAGE_PHOTOS`` then ``SKLEARN_PHOTOS``)."""
    import skimage.data
    from sklearn.datasets import load_sample_images

    photos = [np.ascontiguousarray(getattr(skimage.data, name)()[..., :3]) for name in SKIMAGE_PHOTOS]
    bundle = load_sample_images()
    by_name = {Path(path).name: image for path, image in zip(bundle.filenames, bundle.images)}
    photos += [np.ascontiguousarray(by_name[name]) for name in SKLEARN_PHOTOS]
    return tuple(photos)


def photo_crop(rng: np.random.Generator, source: np.ndarray, size: int) -> np.ndarray:
    """A rotated, scaled, maybe mirrored square crop of ``source`` with colour jitter."""
    height, width = source.shape[:2]
    side = rng.uniform(0.3, 0.8) * min(height, width)
    angle = np.radians(rng.uniform(-12, 12))
    margin = 0.6 * side
    centre = np.array([rng.uniform(margin, width - margin), rng.uniform(margin, height - margin)])
    work = 2 * size  # warp at twice the size, then area-downsample: no aliasing
    step = side / work
    mirror = -1.0 if rng.random() < 0.5 else 1.0
    linear = step * np.array([[np.cos(angle) * mirror, -np.sin(angle)], [np.sin(angle) * mirror, np.cos(angle)]])
    offset = centre - linear @ np.array([work / 2, work / 2])
    matrix = np.hstack([linear, offset[:, None]])
    warped = cv2.warpAffine(source, matrix, (work, work), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT)
    image = cv2.resize(warped, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32)
    grey = image.mean(axis=2, keepdims=True)
    image = grey + (image - grey) * rng.uniform(0.85, 1.15)
    mean = image.mean()
    image = (image - mean) * rng.uniform(0.9, 1.1) + mean * rng.uniform(0.9, 1.1)
    return np.round(np.clip(image, 0, 255)).astype(np.uint8)


# ---------------------------------------------------------------- cartoon scenes


def _moved(parts: list[Part], x: float, y: float, scale: float, flip: bool = False) -> list[Part]:
    """Place unit-frame parts at (x, y) in scene coordinates."""
    sign = -1.0 if flip else 1.0
    return [Part(p.points * [sign * scale, scale] + [x, y], p.colour, p.closed, p.width * scale, p.group, p.outline) for p in parts]


def hills(rng: np.random.Generator, horizon: float) -> list[Part]:
    parts = []
    base = jitter_colour(rng, (100, 180, 80), 25)
    for layer in range(int(rng.integers(1, 4))):
        x = np.linspace(-1.05, 1.05, 40)
        top = horizon + layer * 0.12 - 0.15 * np.abs(np.sin(x * rng.uniform(1, 3) + rng.uniform(0, 6)))
        outline = np.vstack([np.stack([x, top], axis=1), [[1.05, 1.05], [-1.05, 1.05]]])
        parts.append(Part(outline, shade(base, 1.15 - 0.15 * layer)))
    return parts


def house(rng: np.random.Generator) -> list[Part]:
    wall = random_colour(rng, (0.2, 0.6), (0.75, 1.0))
    roof = random_colour(rng, (0.5, 0.9), (0.4, 0.8))
    glass = (160, 210, 240)
    return [
        Part(rect(-0.5, -0.2, 0.5, 0.5), wall),
        Part(poly((-0.62, -0.2), (0.0, -0.7), (0.62, -0.2)), roof),
        Part(rect(-0.12, 0.1, 0.12, 0.5), shade(roof, 0.7)),
        Part(rect(-0.4, -0.08, -0.2, 0.12), glass),
        Part(rect(0.2, -0.08, 0.4, 0.12), glass),
    ]


def sun(rng: np.random.Generator) -> list[Part]:
    colour = jitter_colour(rng, (255, 210, 60), 15)
    rays = [Part(poly((0.0, 0.0), (np.cos(a - 0.12) * 1.6, np.sin(a - 0.12) * 1.6), (np.cos(a + 0.12) * 1.6, np.sin(a + 0.12) * 1.6)), shade(colour, 0.95)) for a in np.linspace(0, 2 * np.pi, 10, endpoint=False)]
    return (rays if rng.random() < 0.5 else []) + [Part(ellipse(0, 0, 1, 1), colour)]


def cloud(rng: np.random.Generator) -> list[Part]:
    puff = jitter_colour(rng, (245, 248, 252), 6)
    return [Part(ellipse(x, y, r, r * 0.8), puff, group=21) for x, y, r in ((-0.6, 0.1, 0.45), (0, -0.1, 0.6), (0.6, 0.1, 0.45))]


def pine(rng: np.random.Generator) -> list[Part]:
    leaf = jitter_colour(rng, (50, 140, 70), 20)
    trunk = [Part(rect(-0.1, 0.3, 0.1, 0.8), jitter_colour(rng, (120, 80, 45), 10))]
    return trunk + [Part(poly((-w, y), (w, y), (0, y - 0.6)), leaf) for y, w in ((0.4, 0.55), (0.05, 0.45), (-0.3, 0.35))]


def cartoon_scene(rng: np.random.Generator, size: int, style: CartoonStyle = CartoonStyle()) -> np.ndarray:
    top, bottom = SKIES[int(rng.integers(len(SKIES)))]
    sky = vertical_gradient(size, jitter_colour(rng, top, 12), jitter_colour(rng, bottom, 12), levels=int(rng.integers(3, 6)))
    image = grade(sky, style)
    horizon = rng.uniform(-0.1, 0.4)
    scene: list[Part] = []
    scene += _moved(sun(rng), rng.uniform(-0.8, 0.8), rng.uniform(-0.85, -0.5), rng.uniform(0.1, 0.2))
    for _ in range(int(rng.integers(0, 4))):
        scene += _moved(cloud(rng), rng.uniform(-0.9, 0.9), rng.uniform(-0.85, horizon - 0.3), rng.uniform(0.12, 0.25))
    scene += hills(rng, horizon)
    ground = horizon + 0.2
    for _ in range(int(rng.integers(0, 3))):
        scene += _moved(house(rng), rng.uniform(-0.8, 0.8), ground - 0.1, rng.uniform(0.25, 0.45))
    for _ in range(int(rng.integers(0, 5))):
        scale = rng.uniform(0.12, 0.25)
        scene += _moved(pine(rng), rng.uniform(-0.95, 0.95), ground + rng.uniform(-0.05, 0.3) - 0.4 * scale, scale, bool(rng.random() < 0.5))
    if rng.random() < 0.6:
        character = CHARACTERS[int(rng.integers(len(CHARACTERS)))](rng)
        scene += _moved(character, rng.uniform(-0.6, 0.6), rng.uniform(0.4, 0.65), rng.uniform(0.25, 0.4), bool(rng.random() < 0.5))
    outline_px = size / 128 * rng.uniform(1.0, 2.5)
    draw_parts(image, grade_parts(scene, style), pose_matrix(size / 2, size / 2, size / 2, 0.0), outline_px, style.outline_colour)
    return image


def make_item(params: PhotoCropsParams, seed: int, folder: Path, index: int) -> ManifestItem:
    rng = item_rng(seed, NAME, index)
    item_id = opaque_id(NAME, seed, index)
    if index < params.photos:
        photos = source_photos()
        image, domain = photo_crop(rng, photos[int(rng.integers(len(photos)))], params.size), "photo"
    else:
        image, domain = cartoon_scene(rng, params.size, params.style), "cartoon"
    return ManifestItem(id=item_id, path=write_png(folder, item_id, image), domain=domain)


def plan(params: PhotoCropsParams, classes: list[str], seed: int, folder: Path) -> tuple[int, ItemMaker]:
    return params.photos + params.cartoons, partial(make_item, params, seed, folder)


@register_generator(NAME, tasks=("translation",), params=PhotoCropsParams)
def generate(params: PhotoCropsParams, classes: list[str], seed: int, folder: Path) -> list[ManifestItem]:
    """``photos`` photo crops and ``cartoons`` cartoon scenes, ``size`` x ``size`` each."""
    return make_all(plan, params, classes, seed, folder, desc=NAME)
