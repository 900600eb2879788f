"""What makes the illustration stand-in hard: the ``nuisances`` block of ``clipart_glyphs``.

Lagunas and Garces (CEIG 2017) classify clip art drawn in many styles and
degrees of abstraction by many artists (§4, the curated set; Fig. 1), where
VGG19 fc7 features with an RBF SVM reach 62.04 % top-1 precision (§6.1,
Table 3). Every nuisance here is a probability (or a count, or a
width) written in the spec, so it is validated on load and part of the
protocol's hash. All of them default to off: a spec without the block draws
the plain stand-in, byte for byte.

- ``outline`` / ``outline_px``: a silhouette outline ``outline_px`` pixels wide.
- ``sketchy`` / ``sketch_jitter_px``: every part's contour retraced twice by an
  unsteady hand (each point jittered with that standard deviation in pixels).
- ``gradient``: a light-to-dark ramp across the object for every style.
- ``shadow``: a hard or soft drop shadow for every style.
- ``palette_size``: palettes limited to this many colours (posterised clip art).
- ``designs``: 1-4 designs per class (``toon_nuisances.design_variant``).
- ``lookalike``: how often a class of a look-alike family (``FAMILIES``) is
  drawn on its family's shared silhouette, told apart only by its details.
- ``degradations``: blur, noise, JPEG and downscaling (``toon_nuisances``).
"""

from __future__ import annotations

from dataclasses import fields

import cv2
import numpy as np
from pydantic import Field

from datasets.components import Params
from datasets.generators._draw import RGB, Part, ellipse, poly, rect, rounded_rect, transform
from datasets.generators._glyph_shapes import Palette, Shape
from datasets.generators.degrade import Degradations, Probability



class ClipartNuisances(Params):
    outline: Probability = 0.0
    outline_px: int = Field(3, ge=1, le=12)
    sketchy: Probability = 0.0
    sketch_jitter_px: float = Field(1.5, gt=0.0, le=6.0)
    gradient: Probability = 0.0
    shadow: Probability = 0.0
    palette_size: int | None = Field(None, ge=2, le=7)
    designs: int = Field(1, ge=1, le=4)
    lookalike: Probability = 0.0
    degradations: Degradations = Degradations()


# ---------------------------------------------------------------- palettes


def limited_palette(rng: np.random.Generator, palette: Palette, size: int) -> Palette:
    """``palette`` with its roles mapped onto ``size`` of its own colours (each used at least once)."""
    names = [f.name for f in fields(Palette)]
    kept = [getattr(palette, name) for name in rng.permutation(names)[:size]]
    choice = np.concatenate([np.arange(size), rng.integers(0, size, len(names) - size)])
    rng.shuffle(choice)
    return Palette(**{name: kept[int(k)] for name, k in zip(names, choice)})


# ---------------------------------------------------------------- look-alike families


def _body(x0: float, y0: float, x1: float, y1: float, r: float, colour: RGB) -> Part:
    return Part(rounded_rect(x0, y0, x1, y1, r), colour)


def appliance(rng: np.random.Generator, pal: Palette, class_name: str) -> Shape:
    """Stove, toaster, printer and cassette on one box body; burners, slots, paper or reels tell them apart."""
    top, bottom = rng.uniform(-0.6, -0.45), rng.uniform(0.55, 0.7)
    parts = [Part(rect(-0.65, bottom - 0.02, -0.45, bottom + 0.1), pal.dark), Part(rect(0.45, bottom - 0.02, 0.65, bottom + 0.1), pal.dark)]
    if class_name == "toaster":
        parts += [_body(x, top - 0.3, x + 0.26, top + 0.1, 0.08, (215, 165, 95)) for x in (-0.36, 0.1)]
    if class_name == "printer":
        parts.append(Part(rect(-0.45, top - 0.35, 0.45, top + 0.05), (250, 250, 250)))
    parts.append(_body(-0.8, top, 0.8, bottom, 0.12, pal.main))
    mid = (top + bottom) / 2
    if class_name == "stove":
        parts += [Part(ellipse(x, top + 0.12, 0.1, 0.05), pal.dark) for x in (-0.45, -0.15, 0.15, 0.45)]
        parts += [_body(-0.55, mid - 0.05, 0.55, bottom - 0.12, 0.05, pal.dark), Part(rect(-0.45, mid - 0.16, 0.45, mid - 0.1), pal.metal)]
    elif class_name == "toaster":
        parts += [Part(rect(x, top + 0.03, x + 0.3, top + 0.09), pal.dark) for x in (-0.38, 0.08)]
        parts += [Part(rect(0.8, mid - 0.1, 0.92, mid), pal.dark), Part(rect(-0.8, mid + 0.1, 0.8, mid + 0.2), pal.second)]
    elif class_name == "printer":
        parts += [Part(rect(-0.6, mid, 0.6, mid + 0.07), pal.dark), Part(rect(-0.4, mid + 0.04, 0.4, bottom + 0.2), (250, 250, 250))]
        parts += [Part(ellipse(0.55 + 0.1 * k, top + 0.12, 0.035, 0.035), c) for k, c in enumerate((pal.accent, (90, 200, 90)))]
    else:  # cassette
        parts += [_body(-0.6, top + 0.1, 0.6, mid + 0.15, 0.05, pal.light)]
        parts += [Part(ellipse(x, mid - 0.05, 0.14, 0.14), pal.second) for x in (-0.3, 0.3)]
        parts += [Part(ellipse(x, mid - 0.05, 0.05, 0.05), pal.dark) for x in (-0.3, 0.3)]
    return parts


def _profile(ys: np.ndarray, radii: np.ndarray, n: int = 48) -> np.ndarray:
    """A closed outline of revolution through (radius, y) control points."""
    y = np.linspace(ys[0], ys[-1], n)
    r = np.interp(y, ys, radii)
    return np.vstack([np.stack([r, y], axis=1), np.stack([-r, y], axis=1)[::-1]])


VESSEL_RADII = {
    "goblet": (0.5, 0.42, 0.07, 0.06, 0.36),
    "vase": (0.24, 0.2, 0.46, 0.42, 0.3),
    "hourglass": (0.46, 0.4, 0.06, 0.4, 0.46),
    "teapot": (0.2, 0.4, 0.5, 0.45, 0.3),
}


def vessel(rng: np.random.Generator, pal: Palette, class_name: str) -> Shape:
    """Goblet, vase, hourglass and teapot on one profile of revolution; waist, stem, spout and handle differ."""
    ys = np.array([-0.85, -0.45, 0.05, 0.45, 0.85])
    radii = np.array(VESSEL_RADII[class_name]) * rng.uniform(0.9, 1.1)
    parts = []
    if class_name == "teapot":
        parts += [Part(poly((0.35, 0.0), (0.85, -0.5), (0.92, -0.42), (0.45, 0.3)), pal.main), Part(ellipse(-0.55, 0.05, 0.2, 0.28), pal.second)]
    parts.append(Part(_profile(ys, radii), pal.main))
    if class_name == "hourglass":
        parts += [Part(rect(-0.55, -0.95, 0.55, -0.85), pal.wood), Part(rect(-0.55, 0.85, 0.55, 0.95), pal.wood)]
        parts.append(Part(_profile(np.array([0.3, 0.6, 0.85]), np.array([0.05, 0.3, 0.4]), 16), pal.accent, outline=False))
    elif class_name == "goblet":
        parts.append(Part(_profile(np.array([-0.5, -0.2, 0.0]), np.array([0.4, 0.3, 0.08]), 16), pal.accent, outline=False))
    else:
        parts.append(Part(rect(-0.4, 0.05, 0.4, 0.2), pal.accent, outline=False))
    return parts


def instrument(rng: np.random.Generator, pal: Palette, class_name: str) -> Shape:
    """Banjo, harp and trombone as a diagonal neck ending in a round body; drumhead, strings or bell differ."""
    end = np.array([-0.85, -0.85]) * rng.uniform(0.9, 1.05)
    parts = [Part(np.vstack([end, (0.3, 0.3)]), pal.wood if class_name != "trombone" else pal.main, closed=False, width=0.1)]
    if class_name == "banjo":
        parts += [Part(ellipse(0.4, 0.4, 0.5, 0.5), pal.metal), Part(ellipse(0.4, 0.4, 0.4, 0.4), pal.light)]
        parts += [Part(np.vstack([end + (d, -d), (0.4 + d, 0.7 - d)]), pal.dark, closed=False, width=0.01, outline=False) for d in (-0.03, 0.0, 0.03)]
    elif class_name == "harp":
        parts.append(Part(ellipse(0.4, 0.4, 0.5, 0.5), pal.wood))
        parts.append(Part(ellipse(0.4, 0.4, 0.38, 0.38), (250, 250, 250)))
        parts += [Part(poly((x, 0.4 - h), (x, 0.4 + h)), pal.dark, closed=False, width=0.012, outline=False)
                  for x, h in ((0.4 + dx, np.sqrt(max(0.0, 0.38**2 - dx**2))) for dx in np.linspace(-0.3, 0.3, 7))]
    else:  # trombone
        parts.append(Part(np.vstack([(-0.6, -0.2), (0.1, 0.5)]), pal.main, closed=False, width=0.06))
        parts.append(Part(poly((0.15, 0.05), (0.05, 0.2), (0.45, 0.9), (0.9, 0.45)), pal.main))
        parts.append(Part(ellipse(0.67, 0.67, 0.32, 0.1, -45), pal.dark))
    return parts


def tool(rng: np.random.Generator, pal: Palette, class_name: str) -> Shape:
    """Hammer and shovel on one handle; a crosswise head or a pointed blade differs."""
    length = rng.uniform(0.8, 0.95)
    parts = [Part(rect(-0.07, -0.45, 0.07, length), pal.wood)]
    if class_name == "hammer":
        parts += [Part(rect(-0.45, -0.7, 0.35, -0.4), pal.metal), Part(poly((0.35, -0.7), (0.7, -0.9), (0.55, -0.55), (0.35, -0.45)), pal.metal)]
    else:  # shovel
        parts += [Part(poly((-0.3, -0.4), (0.3, -0.4), (0.3, -0.75), (0.0, -0.98), (-0.3, -0.75)), pal.metal)]
        parts.append(Part(rounded_rect(-0.2, length - 0.05, 0.2, length + 0.08, 0.04), pal.main))
    return parts


FAMILIES = {
    "appliance": (appliance, ("stove", "toaster", "printer", "cassette")),
    "vessel": (vessel, ("goblet", "vase", "hourglass", "teapot")),
    "instrument": (instrument, ("banjo", "harp", "trombone")),
    "tool": (tool, ("hammer", "shovel")),
}
FAMILY_OF = {name: family for family, (_, members) in FAMILIES.items() for name in members}


def lookalike_shape(rng: np.random.Generator, pal: Palette, class_name: str) -> Shape:
    """``class_name`` drawn on its family's shared silhouette."""
    builder, _ = FAMILIES[FAMILY_OF[class_name]]
    return builder(rng, pal, class_name)


# ---------------------------------------------------------------- image-level nuisances


def silhouette_outline(image: np.ndarray, alpha: np.ndarray, width_px: int, ink: RGB) -> np.ndarray:
    """Paint the ``width_px``-wide band just outside the object's mask ``alpha`` (> 0.5 inside) in ``ink``."""
    inside = (alpha > 0.5).astype(np.uint8)
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * width_px + 1, 2 * width_px + 1))
    band = (cv2.dilate(inside, disk) > 0) & (inside == 0)
    out = image.copy()
    out[band] = ink
    return out


def sketch_outlines(image: np.ndarray, shape: Shape, matrix: np.ndarray, rng: np.random.Generator, jitter_px: float, ink: RGB) -> np.ndarray:
    """Each outlined part's contour traced twice with independent ``jitter_px`` wobble, one pixel thick."""
    out = image.copy()
    for part in shape:
        if not part.outline or not part.closed:
            continue
        points = transform(part.points, matrix)
        for _ in range(2):
            wobbly = points + rng.normal(0.0, jitter_px, points.shape)
            cv2.polylines(out, [np.round(wobbly).astype(np.int32)], True, ink, 1, cv2.LINE_AA)
    return out


def gradient_fill(image: np.ndarray, alpha: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Brighten one side of the object and darken the other along a random direction."""
    size = image.shape[0]
    angle = rng.uniform(0, 2 * np.pi)
    grid = np.linspace(-0.5, 0.5, size, dtype=np.float32)
    ramp = 1.0 + rng.uniform(0.4, 0.8) * (np.cos(angle) * grid[None, :] + np.sin(angle) * grid[:, None])
    lit = np.clip(image.astype(np.float32) * ramp[..., None], 0, 255)
    out = image.astype(np.float32) * (1 - alpha[..., None]) + lit * alpha[..., None]
    return np.round(out).astype(np.uint8)


def drop_shadow(background: np.ndarray, alpha: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``background`` darkened under the object's mask shifted down-right, hard-edged or soft."""
    size = background.shape[0]
    offset = size * rng.uniform(0.02, 0.06)
    shifted = cv2.warpAffine(alpha, np.float32([[1, 0, offset], [0, 1, offset]]), (size, size))
    if rng.random() < 0.5:
        shifted = cv2.GaussianBlur(shifted, (0, 0), size * 0.02)
    out = background.astype(np.float32) * (1 - rng.uniform(0.3, 0.6) * shifted[..., None])
    return np.round(out).astype(np.uint8)
