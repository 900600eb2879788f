"""Shared drawing kit for the synthetic generators.

Shapes are described in a unit frame (x to the right, y down, the object
roughly inside [-1, 1]^2) as ``Part`` polygons and strokes; ``draw_parts``
maps them through one 2x3 affine matrix (pose: scale, rotation, flip,
position) and fills them with OpenCV at sub-pixel precision. Every image
gets its own RNG seeded from (seed, generator tag, index), so images can be
made in any order or in parallel and still come out byte-identical.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

RGB = tuple[int, int, int]
SHIFT = 4  # fixed-point bits for cv2 drawing: 1/16 pixel precision
SCALE = 1 << SHIFT
PNG_PARAMS = [cv2.IMWRITE_PNG_COMPRESSION, 3]


@dataclass(frozen=True)
class Part:
    """One shape: a closed polygon (filled) or an open stroke of ``width`` unit-frame units.

    Consecutive parts sharing a ``group`` are drawn as one silhouette: all
    outlines first, then all fills, so their union gets a single outline.
    """

    points: np.ndarray
    colour: RGB
    closed: bool = True
    width: float = 0.0
    group: int | None = None
    outline: bool = True


# ---------------------------------------------------------------- geometry


@lru_cache(maxsize=512)
def _unit_arc(start: float, end: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    t = np.radians(np.linspace(start, end, n, endpoint=(end - start) < 360.0))
    return np.cos(t), np.sin(t)


def ellipse(cx: float, cy: float, rx: float, ry: float, angle: float = 0.0, start: float = 0.0, end: float = 360.0, n: int = 48) -> np.ndarray:
    """Points on an ellipse (angles in degrees); a partial arc when start/end are given."""
    cos_t, sin_t = _unit_arc(float(start), float(end), n)
    points = np.empty((n, 2))
    if angle == 0.0:
        points[:, 0] = cx + rx * cos_t
        points[:, 1] = cy + ry * sin_t
        return points
    a = np.radians(angle)
    ca, sa = np.cos(a), np.sin(a)
    x, y = rx * cos_t, ry * sin_t
    points[:, 0] = cx + x * ca - y * sa
    points[:, 1] = cy + x * sa + y * ca
    return points


def rect(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=float)


def rounded_rect(x0: float, y0: float, x1: float, y1: float, r: float, n: int = 8) -> np.ndarray:
    r = min(r, (x1 - x0) / 2, (y1 - y0) / 2)
    corners = [(x1 - r, y0 + r, -90), (x1 - r, y1 - r, 0), (x0 + r, y1 - r, 90), (x0 + r, y0 + r, 180)]
    return np.concatenate([ellipse(cx, cy, r, r, 0, a, a + 90, n) for cx, cy, a in corners])


def poly(*points: tuple[float, float]) -> np.ndarray:
    return np.array(points, dtype=float)


def bezier(p0: Sequence[float], p1: Sequence[float], p2: Sequence[float], n: int = 16) -> np.ndarray:
    """Quadratic Bezier curve from p0 to p2 bent towards p1."""
    t = np.linspace(0.0, 1.0, n)[:, None]
    a, b, c = (np.asarray(p, dtype=float) for p in (p0, p1, p2))
    return (1 - t) ** 2 * a + 2 * (1 - t) * t * b + t**2 * c


def ring(points: np.ndarray) -> np.ndarray:
    """A closed outline to draw as a stroke (Part with closed=False): repeats the first point."""
    return np.vstack([points, points[:1]])


def transform(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    return points @ matrix[:, :2].T + matrix[:, 2]


def pose_matrix(cx: float, cy: float, scale: float, angle_deg: float, flip: bool = False, squash: float = 1.0) -> np.ndarray:
    """Unit frame -> pixels: optional mirror and horizontal squash, rotate, scale, move to (cx, cy)."""
    a = np.radians(angle_deg)
    rotation = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    mirror = np.diag([(-1.0 if flip else 1.0) * squash, 1.0])
    linear = scale * rotation @ mirror
    return np.hstack([linear, [[cx], [cy]]])


# ---------------------------------------------------------------- colour


def jitter_colour(rng: np.random.Generator, colour: RGB, amount: float = 20.0) -> RGB:
    shifted = np.clip(np.asarray(colour, dtype=float) + rng.normal(0.0, amount, 3), 0, 255)
    return tuple(int(v) for v in shifted)  # type: ignore[return-value]


def shade(colour: RGB, factor: float) -> RGB:
    """factor < 1 darkens towards black, > 1 lightens towards white."""
    c = np.asarray(colour, dtype=float)
    out = c * factor if factor <= 1 else c + (255 - c) * (factor - 1)
    return tuple(int(v) for v in np.clip(out, 0, 255))  # type: ignore[return-value]


def random_colour(rng: np.random.Generator, saturation: tuple[float, float] = (0.4, 0.9), value: tuple[float, float] = (0.5, 1.0)) -> RGB:
    hsv = np.array([[[rng.uniform(0, 180), rng.uniform(*saturation) * 255, rng.uniform(*value) * 255]]], dtype=np.uint8)
    return tuple(int(v) for v in cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0])  # type: ignore[return-value]


# ---------------------------------------------------------------- drawing


def _pixels(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    fixed = points @ (matrix[:, :2].T * SCALE) + matrix[:, 2] * SCALE
    return np.rint(fixed, out=fixed).astype(np.int32)


def _draw_one(image: np.ndarray, part: Part, matrix: np.ndarray, unit_px: float, colour: RGB, extra_px: float, fill: bool) -> None:
    pts = _pixels(part.points, matrix)
    if part.closed and fill:
        cv2.fillPoly(image, [pts], colour, cv2.LINE_AA, SHIFT)
        if extra_px > 0:
            cv2.polylines(image, [pts], True, colour, max(1, int(round(extra_px))), cv2.LINE_AA, SHIFT)
        return
    thickness = part.width * unit_px + extra_px
    if thickness >= 0.5:
        cv2.polylines(image, [pts], part.closed, colour, max(1, int(round(thickness))), cv2.LINE_AA, SHIFT)


def draw_parts(
    image: np.ndarray,
    parts: Sequence[Part],
    matrix: np.ndarray,
    outline_px: float = 0.0,
    outline_colour: RGB = (25, 20, 30),
    fill_override: RGB | None = None,
) -> None:
    """Draw parts in order; ``outline_px`` > 0 gives each part an outline of that thickness.

    ``fill_override`` paints every part's inside in one colour (line-art icons, masks).
    """
    unit_px = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    index = 0
    while index < len(parts):
        run = [parts[index]]
        while parts[index].group is not None and index + len(run) < len(parts) and parts[index + len(run)].group == parts[index].group:
            run.append(parts[index + len(run)])
        index += len(run)
        if outline_px > 0:
            for part in run:
                if part.outline:
                    _draw_one(image, part, matrix, unit_px, outline_colour, 2 * outline_px, part.closed)
        for part in run:
            _draw_one(image, part, matrix, unit_px, fill_override or part.colour, 0.0, True)


def vertical_gradient(size: int, top: RGB, bottom: RGB, levels: int = 0) -> np.ndarray:
    """size x size RGB gradient; ``levels`` > 0 quantises it into that many flat bands."""
    t = np.linspace(0.0, 1.0, size)
    if levels > 0:
        t = np.floor(t * levels) / max(levels - 1, 1)
        t = np.clip(t, 0.0, 1.0)
    column = (1 - t)[:, None] * np.asarray(top, float) + t[:, None] * np.asarray(bottom, float)
    return np.ascontiguousarray(np.broadcast_to(column[:, None, :], (size, size, 3)).round().astype(np.uint8))


def solid(size: int, colour: RGB) -> np.ndarray:
    image = np.empty((size, size, 3), dtype=np.uint8)
    image[:] = colour
    return image


# ---------------------------------------------------------------- ids, rngs, files


def generator_tag(name: str) -> int:
    return zlib.crc32(name.encode())


def item_rng(seed: int, name: str, index: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, generator_tag(name), index]))


def opaque_id(name: str, seed: int, index: int) -> str:
    """16 hex chars that reveal nothing of the item's class, identity or domain."""
    return hashlib.sha256(f"{name}:{seed}:{index}".encode()).hexdigest()[:16]


def write_png(folder: Path, item_id: str, rgb: np.ndarray) -> str:
    relative = f"images/{item_id}.png"
    if not cv2.imwrite(str(folder / relative), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), PNG_PARAMS):
        raise OSError(f"{folder / relative}: could not write image")
    return relative
