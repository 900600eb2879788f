"""Shape compositions of the 23 illustration classes for ``clipart_glyphs``, by class name.

Each builder takes the image's RNG and palette and returns ``Part`` lists in
the unit frame; ``glyphs.py`` decides how they are rendered (flat with
gradient and shadow, stroked icon, or duotone).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from datasets.generators._draw import RGB, Part, bezier, ellipse, poly, rect, ring, rounded_rect

Shape = list[Part]


@dataclass(frozen=True)
class Palette:
    main: RGB
    second: RGB
    accent: RGB
    dark: RGB
    light: RGB
    metal: RGB
    wood: RGB


def _rotate(parts: Shape, degrees: float) -> Shape:
    a = np.radians(degrees)
    matrix = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
    return [Part(p.points @ matrix, p.colour, p.closed, p.width, p.group, p.outline) for p in parts]


def _stroke(points: np.ndarray, colour: RGB, width: float) -> Part:
    return Part(points, colour, closed=False, width=width)


def _circle(cx: float, cy: float, r: float, colour: RGB) -> Part:
    return Part(ellipse(cx, cy, r, r), colour)


def ambulance(rng: np.random.Generator, pal: Palette) -> Shape:
    red = (220, 40, 45)
    length = rng.uniform(0.4, 0.55)
    parts = [
        Part(rect(-0.9, -0.4, length, 0.35), pal.light, group=1),
        Part(poly((length, -0.15), (0.72, -0.15), (0.92, 0.08), (0.92, 0.35), (length, 0.35)), pal.light, group=1),
        Part(poly((length + 0.05, -0.1), (0.7, -0.1), (0.84, 0.06), (length + 0.05, 0.06)), (150, 200, 235)),
        Part(rect(-0.9, 0.12, 0.92, 0.2), red),
        Part(rect(-0.45, -0.3, -0.25, 0.05), red),
        Part(rect(-0.55, -0.2, -0.15, -0.05), red),
        Part(rect(-0.1, -0.5, 0.05, -0.4), (60, 120, 230)),
    ]
    for x in (-0.55, 0.6):
        parts += [_circle(x, 0.35, 0.17, pal.dark), _circle(x, 0.35, 0.07, pal.metal)]
    return parts


def banjo(rng: np.random.Generator, pal: Palette) -> Shape:
    parts = [
        Part(rect(-0.06, -1.0, 0.06, 0.1), pal.wood),
        Part(rounded_rect(-0.11, -1.15, 0.11, -0.9, 0.04), pal.wood),
        _circle(0, 0.42, 0.45, pal.metal),
        _circle(0, 0.42, 0.37, pal.light),
        Part(rect(-0.1, 0.55, 0.1, 0.62), pal.wood),
    ]
    parts += [_circle(s * 0.14, y, 0.035, pal.metal) for s in (-1, 1) for y in (-1.1, -0.98)]
    parts += [_stroke(poly((x, -0.95), (x * 2, 0.58)), pal.dark, 0.008) for x in (-0.03, -0.01, 0.01, 0.03)]
    return _rotate(parts, rng.uniform(-50, -25))


def cassette(rng: np.random.Generator, pal: Palette) -> Shape:
    parts = [
        Part(rounded_rect(-0.9, -0.55, 0.9, 0.55, 0.08), pal.main),
        Part(rect(-0.75, -0.45, 0.75, 0.08), pal.light),
        Part(rounded_rect(-0.45, -0.22, 0.45, 0.02, 0.1), pal.dark),
        Part(poly((-0.55, 0.55), (-0.45, 0.3), (0.45, 0.3), (0.55, 0.55)), pal.second),
    ]
    for x in (-0.28, 0.28):
        parts += [_circle(x, -0.1, 0.1, pal.light), _circle(x, -0.1, 0.04, pal.dark)]
    parts += [_circle(x, y, 0.03, pal.metal) for x in (-0.8, 0.8) for y in (-0.45, 0.45)]
    parts.append(_stroke(poly((-0.6, -0.33), (rng.uniform(-0.2, 0.6), -0.33)), pal.accent, 0.03))
    return parts


def desk(rng: np.random.Generator, pal: Palette) -> Shape:
    parts = [
        Part(rect(0.72, -0.18, 0.84, 0.7), pal.wood),
        Part(rect(-0.9, -0.18, -0.3, 0.7), pal.wood),
        Part(rect(-0.97, -0.32, 0.97, -0.18), pal.second),
    ]
    drawers = int(rng.integers(2, 4))
    height = 0.8 / drawers
    for k in range(drawers):
        y = -0.12 + k * height
        parts += [Part(rect(-0.84, y, -0.36, y + height - 0.06), pal.main), Part(rect(-0.66, y + height / 2 - 0.05, -0.54, y + height / 2 - 0.01), pal.metal)]
    if rng.random() < 0.6:
        parts += [Part(rect(0.1, -0.42, 0.5, -0.32), pal.dark), Part(rounded_rect(-0.05, -0.9, 0.65, -0.42, 0.04), pal.dark), Part(rect(0.0, -0.85, 0.6, -0.47), (150, 200, 235))]
    return parts


def envelope(rng: np.random.Generator, pal: Palette) -> Shape:
    tip = rng.uniform(0.0, 0.2)
    parts = [
        Part(rect(-0.9, -0.55, 0.9, 0.55), pal.light),
        _stroke(poly((-0.9, 0.55), (-0.15, tip)), pal.dark, 0.02),
        _stroke(poly((0.9, 0.55), (0.15, tip)), pal.dark, 0.02),
        Part(poly((-0.9, -0.55), (0, tip), (0.9, -0.55)), pal.second),
    ]
    if rng.random() < 0.5:
        parts.append(_circle(0, tip, 0.12, (200, 40, 50)))
    else:
        parts.append(Part(rect(0.5, -0.45, 0.8, -0.15), pal.accent))
    return parts


def goblet(rng: np.random.Generator, pal: Palette) -> Shape:
    rim = rng.uniform(0.35, 0.5)
    bowl = np.vstack([bezier((-rim, -0.85), (-rim, 0.0), (-0.06, 0.05)), bezier((0.06, 0.05), (rim, 0.0), (rim, -0.85))])
    parts = [
        Part(ellipse(0, 0.7, 0.35, 0.09), pal.main),
        Part(rect(-0.05, 0.0, 0.05, 0.68), pal.main),
        _circle(0, 0.3, 0.08, pal.main),
        Part(bowl, pal.main),
        Part(np.vstack([bezier((-rim * 0.93, -0.45), (-rim * 0.8, 0.0), (-0.05, 0.0)), bezier((0.05, 0.0), (rim * 0.8, 0.0), (rim * 0.93, -0.45))]), pal.accent),
    ]
    parts += [_circle(x, -0.2, 0.05, pal.light) for x in (-0.15, 0.0, 0.15)]
    return parts


def hammer(rng: np.random.Generator, pal: Palette) -> Shape:
    parts = [
        Part(rounded_rect(-0.07, -0.4, 0.07, 0.95, 0.05), pal.wood),
        Part(rounded_rect(-0.09, 0.55, 0.09, 0.97, 0.06), pal.main),
        Part(rect(-0.45, -0.65, 0.3, -0.35), pal.metal),
        Part(rect(-0.55, -0.68, -0.4, -0.32), pal.metal),
        Part(poly((0.3, -0.65), (0.7, -0.85), (0.58, -0.55), (0.3, -0.42)), pal.metal),
    ]
    return _rotate(parts, rng.uniform(-45, 45))


def harp(rng: np.random.Generator, pal: Palette) -> Shape:
    crest = rng.uniform(-0.9, -0.6)
    parts = [_stroke(poly((-0.5, 0.85), (-0.55, -0.75)), pal.wood, 0.13)]
    neck = bezier((-0.55, -0.75), (0.0, crest + 0.5), (0.6, -0.55))
    sound = poly((0.6, -0.55), (-0.5, 0.85))
    for t in np.linspace(0.15, 0.85, 7):
        top = neck[int(t * (len(neck) - 1))]
        bottom_y = -0.55 + (top[0] - 0.6) * (1.4 / -1.1)
        parts.append(_stroke(poly(tuple(top), (top[0], bottom_y)), pal.light, 0.012))
    parts += [_stroke(neck, pal.wood, 0.1), _stroke(sound, pal.main, 0.15), _circle(-0.55, -0.8, 0.09, pal.accent)]
    return parts


def hourglass(rng: np.random.Generator, pal: Palette) -> Shape:
    waist = rng.uniform(0.04, 0.09)
    level = rng.uniform(-0.55, -0.2)
    return [
        Part(poly((-0.42, -0.8), (0.42, -0.8), (waist, 0), (0.42, 0.8), (-0.42, 0.8), (-waist, 0)), (200, 225, 240)),
        Part(poly((-0.42 * (-level / 0.8) - 0.02, level), (0.42 * (-level / 0.8) + 0.02, level), (0.03, -0.03), (-0.03, -0.03)), pal.accent),
        Part(poly((-0.4, 0.8), (0, 0.8 + level * 0.6), (0.4, 0.8)), pal.accent),
        _stroke(poly((0, 0.0), (0, 0.6)), pal.accent, 0.015),
        _stroke(poly((-0.5, -0.8), (-0.5, 0.8)), pal.wood, 0.06),
        _stroke(poly((0.5, -0.8), (0.5, 0.8)), pal.wood, 0.06),
        Part(rounded_rect(-0.6, -0.95, 0.6, -0.8, 0.03), pal.wood),
        Part(rounded_rect(-0.6, 0.8, 0.6, 0.95, 0.03), pal.wood),
    ]


def jellyfish(rng: np.random.Generator, pal: Palette) -> Shape:
    phase = rng.uniform(0, 2 * np.pi)
    parts = []
    for x in np.linspace(-0.4, 0.4, int(rng.integers(4, 7))):
        y = np.linspace(-0.25, rng.uniform(0.6, 0.95), 20)
        parts.append(_stroke(np.stack([x + 0.08 * np.sin(y * 9 + phase + x * 5), y], axis=1), pal.second, 0.045))
    bell = np.vstack([ellipse(0, -0.25, 0.62, 0.6, 0, 180, 360, 40), bezier((0.62, -0.25), (0.3, -0.1), (0.0, -0.22)), bezier((0.0, -0.22), (-0.3, -0.1), (-0.62, -0.25))])
    parts += [Part(bell, pal.main), Part(ellipse(-0.2, -0.55, 0.12, 0.07, -30), pal.light)]
    parts += [_circle(x, -0.4, 0.05, pal.second) for x in (0.05, 0.3)]
    return parts


def mask(rng: np.random.Generator, pal: Palette) -> Shape:
    parts = [_stroke(poly((0.75, 0.05), (rng.uniform(0.85, 1.0), 0.95)), pal.wood, 0.06)]
    parts += [Part(ellipse(0.6 + 0.12 * k, -0.4 - 0.1 * k, 0.1, 0.35, 20 + 15 * k), pal.accent) for k in range(3)]
    parts += [
        Part(ellipse(-0.42, 0.0, 0.5, 0.32, -8), pal.main, group=1),
        Part(ellipse(0.42, 0.0, 0.5, 0.32, 8), pal.main, group=1),
        Part(ellipse(-0.4, -0.03, 0.2, 0.11, -8), pal.dark),
        Part(ellipse(0.4, -0.03, 0.2, 0.11, 8), pal.dark),
    ]
    parts += [_circle(x, 0.22, 0.04, pal.light) for x in (-0.6, -0.3, 0.3, 0.6)]
    return parts


def mosque(rng: np.random.Generator, pal: Palette) -> Shape:
    dome_h = rng.uniform(0.45, 0.65)
    parts = []
    for s in (-1, 1):
        x = s * 0.82
        parts += [Part(rect(x - 0.08, -0.7, x + 0.08, 0.85), pal.light), Part(poly((x - 0.1, -0.7), (x, -0.98), (x + 0.1, -0.7)), pal.main)]
    parts += [
        Part(ellipse(0, 0.0, 0.45, dome_h, 0, 180, 360), pal.main),
        Part(poly((-0.03, -dome_h + 0.02), (0, -dome_h - 0.2), (0.03, -dome_h + 0.02)), pal.accent),
        Part(rect(-0.7, 0.0, 0.7, 0.85), pal.light),
        Part(np.vstack([poly((0.15, 0.85), (0.15, 0.45)), ellipse(0, 0.45, 0.15, 0.2, 0, 180, 360, 16), poly((-0.15, 0.45), (-0.15, 0.85))]), pal.dark),
    ]
    parts += [Part(np.vstack([poly((x + 0.07, 0.35), (x + 0.07, 0.2)), ellipse(x, 0.2, 0.07, 0.09, 0, 180, 360, 10), poly((x - 0.07, 0.2), (x - 0.07, 0.35))]), pal.dark) for x in (-0.45, 0.45)]
    return parts


def pelican(rng: np.random.Generator, pal: Palette) -> Shape:
    orange = (245, 160, 40)
    pouch = rng.uniform(-0.45, -0.25)
    return [
        _stroke(poly((-0.2, 0.4), (-0.25, 0.9)), orange, 0.04),
        _stroke(poly((0.0, 0.4), (0.05, 0.9)), orange, 0.04),
        Part(ellipse(-0.15, 0.15, 0.5, 0.33, -10), pal.light),
        Part(ellipse(-0.3, 0.1, 0.35, 0.2, -15), pal.metal),
        _stroke(bezier((0.2, 0.0), (0.4, -0.35), (0.25, -0.65)), pal.light, 0.15),
        _circle(0.25, -0.68, 0.14, pal.light),
        Part(poly((0.33, -0.62), (0.97, -0.56), (0.5, pouch)), orange),
        Part(poly((0.33, -0.76), (1.0, -0.6), (0.33, -0.64)), (250, 200, 60)),
        _circle(0.23, -0.72, 0.03, pal.dark),
    ]


def printer(rng: np.random.Generator, pal: Palette) -> Shape:
    paper = (250, 250, 250)
    out = rng.uniform(0.65, 0.95)
    parts = [
        Part(rect(-0.5, -0.8, 0.5, -0.15), paper),
        Part(rounded_rect(-0.85, -0.25, 0.85, 0.45, 0.1), pal.main),
        Part(rect(-0.6, 0.05, 0.6, 0.12), pal.dark),
        Part(rect(-0.45, 0.08, 0.45, out), paper),
        Part(rect(-0.65, 0.45, 0.65, 0.55), pal.second),
    ]
    parts += [_stroke(poly((-0.3, y), (0.3, y)), pal.metal, 0.02) for y in np.arange(0.25, out - 0.05, 0.12)]
    parts += [_circle(0.55 + 0.12 * k, -0.1, 0.04, c) for k, c in enumerate((pal.accent, (90, 200, 90)))]
    return parts


def shovel(rng: np.random.Generator, pal: Palette) -> Shape:
    parts = [
        _stroke(poly((0, -0.9), (0, 0.25)), pal.wood, 0.09),
        Part(rounded_rect(-0.22, -1.02, 0.22, -0.88, 0.05), pal.main),
        Part(rect(-0.07, 0.1, 0.07, 0.25), pal.metal),
        Part(poly((-0.3, 0.2), (0.3, 0.2), (0.3, 0.6), (0, rng.uniform(0.85, 1.0)), (-0.3, 0.6)), pal.metal),
    ]
    return _rotate(parts, rng.uniform(-45, 45))


def stove(rng: np.random.Generator, pal: Palette) -> Shape:
    parts = [
        Part(rect(-0.75, -0.88, 0.75, -0.62), pal.second),
        Part(rect(-0.75, -0.55, 0.75, 0.9), pal.main),
        Part(rect(-0.82, -0.64, 0.82, -0.53), pal.dark),
        Part(rect(-0.6, -0.12, 0.6, 0.75), pal.second),
        Part(rounded_rect(-0.45, 0.05, 0.45, 0.55, 0.06), pal.dark),
        Part(rect(-0.45, -0.24, 0.45, -0.17), pal.metal),
    ]
    parts += [_circle(x, -0.75, 0.06, pal.dark) for x in (-0.45, -0.15, 0.15, 0.45)]
    parts += [_circle(x, -0.38, 0.05, pal.metal) for x in (-0.5, 0.5)]
    if rng.random() < 0.5:
        parts += [Part(rounded_rect(-0.45, -1.0, 0.05, -0.64, 0.05), pal.accent)]
    return parts


def syringe(rng: np.random.Generator, pal: Palette) -> Shape:
    fill = rng.uniform(-0.3, 0.2)
    parts = [
        Part(rect(-1.0, -0.2, -0.93, 0.2), pal.main),
        Part(rect(-0.95, -0.05, -0.55, 0.05), pal.main),
        Part(rect(-0.6, -0.15, 0.5, 0.15), (215, 235, 245)),
        Part(rect(fill, -0.11, 0.5, 0.11), pal.accent),
        Part(rect(fill - 0.06, -0.14, fill, 0.14), pal.dark),
        Part(rect(-0.62, -0.28, -0.56, 0.28), pal.main),
        Part(rect(0.5, -0.07, 0.62, 0.07), pal.main),
        _stroke(poly((0.62, 0), (1.0, 0)), pal.metal, 0.02),
    ]
    parts += [_stroke(poly((x, -0.15), (x, -0.05)), pal.dark, 0.012) for x in np.arange(-0.45, 0.45, 0.15)]
    return _rotate(parts, rng.uniform(-50, 50))


def teapot(rng: np.random.Generator, pal: Palette) -> Shape:
    parts = [
        _stroke(ring(ellipse(-0.6, 0.1, 0.2, 0.28)), pal.main, 0.08),
        Part(poly((0.4, 0.25), (0.85, rng.uniform(-0.45, -0.2)), (0.95, -0.25), (0.5, 0.45)), pal.main),
        Part(ellipse(0, 0.15, 0.58, 0.45), pal.main),
        Part(ellipse(0, -0.28, 0.3, 0.09), pal.second),
        _circle(0, -0.4, 0.07, pal.second),
        Part(ellipse(0, 0.58, 0.3, 0.05), pal.second),
    ]
    parts += [_circle(x, 0.15, 0.06, pal.accent) for x in (-0.25, 0.0, 0.25)]
    return parts


def toaster(rng: np.random.Generator, pal: Palette) -> Shape:
    toast = (215, 165, 95)
    up = rng.uniform(-0.85, -0.55)
    return [
        Part(rounded_rect(-0.38, up, -0.1, -0.3, 0.08), toast),
        Part(rounded_rect(0.1, up + 0.1, 0.38, -0.3, 0.08), toast),
        Part(rounded_rect(-0.72, -0.45, 0.72, 0.65, 0.22), pal.metal),
        Part(rounded_rect(-0.4, -0.45, -0.08, -0.37, 0.03), pal.dark),
        Part(rounded_rect(0.08, -0.45, 0.4, -0.37, 0.03), pal.dark),
        Part(rect(-0.72, 0.15, 0.72, 0.3), pal.main),
        Part(rect(0.72, -0.2, 0.85, -0.1), pal.dark),
        _circle(0.45, 0.45, 0.08, pal.dark),
        Part(rect(-0.6, 0.65, -0.4, 0.75), pal.dark),
        Part(rect(0.4, 0.65, 0.6, 0.75), pal.dark),
    ]


def trombone(rng: np.random.Generator, pal: Palette) -> Shape:
    gold = pal.main
    slide = rng.uniform(-1.0, -0.7)
    return [
        _stroke(poly((slide, 0.15), (0.2, 0.15)), gold, 0.05),
        _stroke(poly((slide, 0.35), (0.2, 0.35)), gold, 0.05),
        _stroke(bezier((slide, 0.15), (slide - 0.15, 0.25), (slide, 0.35)), gold, 0.05),
        _stroke(poly((-0.4, -0.3), (0.45, -0.3)), gold, 0.05),
        _stroke(bezier((-0.4, -0.3), (-0.6, -0.05), (-0.35, 0.15)), gold, 0.05),
        _stroke(bezier((0.2, 0.35), (0.45, 0.1), (0.2, -0.3)), gold, 0.05),
        Part(poly((0.42, -0.34), (0.75, -0.42), (0.98, -0.62), (0.98, 0.02), (0.75, -0.18), (0.42, -0.26)), gold),
        Part(ellipse(0.98, -0.3, 0.06, 0.32), pal.second),
        _circle(-0.1, 0.35, 0.05, pal.dark),
    ]


def umbrella(rng: np.random.Generator, pal: Palette) -> Shape:
    ribs = int(rng.integers(3, 6))
    xs = np.linspace(-0.9, 0.9, ribs + 1)
    scallops = np.vstack([bezier((xs[k + 1], -0.1), ((xs[k] + xs[k + 1]) / 2, -0.25), (xs[k], -0.1), 8) for k in range(ribs - 1, -1, -1)])
    canopy = np.vstack([ellipse(0, -0.1, 0.9, 0.72, 0, 180, 360, 40), scallops])
    parts = [
        _stroke(poly((0, -0.9), (0, 0.75)), pal.dark, 0.04),
        _stroke(bezier((0, 0.75), (0.02, 0.98), (-0.22, 0.85)), pal.dark, 0.05),
        Part(canopy, pal.main),
    ]
    for k in range(1, ribs, 2):
        top = np.array([0.0, -0.82])
        parts.append(Part(np.vstack([top, [xs[k], -0.12], [xs[k + 1], -0.12]]), pal.second, outline=False))
    return parts


def vase(rng: np.random.Generator, pal: Palette) -> Shape:
    ys = np.array([-0.9, -0.75, -0.3, 0.3, 0.85])
    radii = np.array([0.28, 0.15, rng.uniform(0.3, 0.45), rng.uniform(0.4, 0.6), 0.25])
    y = np.linspace(-0.9, 0.85, 40)
    r = np.interp(y, ys, radii)
    r = np.convolve(np.pad(r, 3, mode="edge"), np.ones(7) / 7, mode="valid")
    profile = np.vstack([np.stack([r, y], axis=1), np.stack([-r, y], axis=1)[::-1]])
    band = (y > 0.0) & (y < 0.2)
    band_shape = np.vstack([np.stack([r[band], y[band]], axis=1), np.stack([-r[band], y[band]], axis=1)[::-1]])
    parts = [Part(profile, pal.main), Part(band_shape, pal.accent, outline=False)]
    if rng.random() < 0.5:
        parts = [_stroke(poly((x, -0.85), (x * 2.5, -1.05)), (70, 160, 70), 0.03) for x in (-0.1, 0.05, 0.15)] + parts
    return parts


def zebra(rng: np.random.Generator, pal: Palette) -> Shape:
    white, black = (245, 245, 245), (25, 25, 30)
    head_angle = rng.uniform(10, 45)
    parts = [Part(rect(x, 0.1, x + 0.12, 0.8), white) for x in (-0.5, -0.32, 0.2, 0.38)]
    parts += [
        _stroke(bezier((-0.6, -0.05), (-0.78, 0.1), (-0.75, 0.4)), black, 0.04),
        Part(ellipse(-0.05, 0.0, 0.6, 0.3), white, group=1),
        Part(poly((0.35, -0.15), (0.5, -0.65), (0.7, -0.6), (0.6, 0.05)), white, group=1),
        Part(ellipse(0.75, -0.55, 0.3, 0.13, head_angle), white, group=1),
        Part(poly((0.45, -0.65), (0.52, -0.75), (0.35, -0.15)), black),
    ]
    for x in np.linspace(-0.5, 0.45, 7):
        half = 0.3 * np.sqrt(max(0.0, 1 - ((x + 0.05) / 0.6) ** 2)) * 0.95
        parts.append(Part(ellipse(x, -0.05, 0.035, half * 0.85, 12), black, outline=False))
    parts += [Part(rect(x, y, x + 0.12, y + 0.05), black, outline=False) for x in (-0.5, -0.32, 0.2, 0.38) for y in (0.35, 0.55)]
    parts.append(_circle(0.75, -0.6, 0.03, black))
    return parts


CLASS_SHAPES: dict[str, Callable[[np.random.Generator, Palette], Shape]] = {
    shape.__name__: shape for shape in (
        ambulance, banjo, cassette, desk, envelope, goblet, hammer, harp, hourglass, jellyfish, mask, mosque,
        pelican, printer, shovel, stove, syringe, teapot, toaster, trombone, umbrella, vase, zebra,
    )
}  # each class is named by its builder
