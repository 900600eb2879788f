"""The ToonNet paper's drawing styles for the stand-in: cel shading (§3.2) and the hand-drawing filter (§3.4).

Cel shading (§3.2, eq. 1) lights each segment of a flat-coloured drawing by
a half-Lambert term ``h = α(L·N) + β`` (α = β = 0.5) of one directional
light, samples a 3-level ramp with ``h`` (the paper's Fig. 2) and draws
contours with the Sobel operator on the colour buffer. A 2-D drawing has no
normals, so each segment is inflated into a dome (height = square root of
the distance to its border) and N is the dome's normal. The diffuse term is
the ramp's value alone, so a segment gets exactly three tones (Fig. 2's
"up to three diffuse intensity levels").

The hand-drawing filter (§3.4) turns an image into a grayscale pencil
drawing G (grayscale, gradient edges, pencil tone, texture), histogram-
equalises G and maps it back onto the colours with eq. 2,
``I = I + G − G∘I/255``. The texture is applied per mean-shift segment,
each with its own random rotation. Pencil, crayon and custom textures are
drawn procedurally from the image's RNG: no texture files.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from datasets.generators._draw import Part, _pixels

RAMP_LEVELS = (0.55, 0.8, 1.0)  # the 3-level ramp texture, dark to light
HALF_LAMBERT = (0.5, 0.5)  # α, β of §3.2
TEXTURES = ("pencil", "crayon", "custom")


# ---------------------------------------------------------------- cel shading (§3.2)


def draw_labels(parts: Sequence[Part], matrix: np.ndarray, size: int) -> np.ndarray:
    """Segment map of a drawing: 0 background, ``k + 1`` where part ``k`` is visible (no anti-aliasing)."""
    labels = np.zeros((size, size), dtype=np.uint8)
    unit_px = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    for k, part in enumerate(parts):
        pts = _pixels(part.points, matrix)
        if part.closed:
            cv2.fillPoly(labels, [pts], k + 1, cv2.LINE_8, 4)
        elif part.width * unit_px >= 0.5:
            cv2.polylines(labels, [pts], False, k + 1, max(1, int(round(part.width * unit_px))), cv2.LINE_8, 4)
    return labels


def segment_normals(labels: np.ndarray) -> np.ndarray:
    """Unit normals (H x W x 3, z towards the viewer) of every segment inflated into a dome."""
    border = np.zeros(labels.shape, dtype=bool)
    border[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    border[:, :-1] |= labels[:, 1:] != labels[:, :-1]
    border[1:] |= labels[1:] != labels[:-1]
    border[:-1] |= labels[1:] != labels[:-1]
    distance = cv2.distanceTransform((~border).astype(np.uint8), cv2.DIST_L2, 5)
    height = np.sqrt(distance) * 2.0
    gx = cv2.Sobel(height, cv2.CV_32F, 1, 0, ksize=3) / 8
    gy = cv2.Sobel(height, cv2.CV_32F, 0, 1, ksize=3) / 8
    normals = np.dstack([-gx, -gy, np.ones_like(height)])
    return normals / np.linalg.norm(normals, axis=2, keepdims=True)


def half_lambert(normals: np.ndarray, light: np.ndarray) -> np.ndarray:
    """``α(L·N) + β`` of eq. 1, in [0, 1] for unit vectors."""
    alpha, beta = HALF_LAMBERT
    light = np.asarray(light, dtype=np.float32)
    return alpha * (normals @ (light / np.linalg.norm(light))) + beta


def ramp(intensity: np.ndarray, levels: Sequence[float] = RAMP_LEVELS) -> np.ndarray:
    """Sample the ramp texture: [0, 1] cut into ``len(levels)`` equal bins, each one flat value."""
    index = np.clip((np.asarray(intensity) * len(levels)).astype(int), 0, len(levels) - 1)
    return np.asarray(levels, dtype=np.float32)[index]


def cel_shade(labels: np.ndarray, colours: np.ndarray, light: np.ndarray, ambient: float = 0.15) -> np.ndarray:
    """Eq. 1 with ambient light and one directional light: ``k·(ambient + (1 − ambient)·Ramp(h))``.

    ``colours[k]`` is segment ``k``'s flat colour (k_a = k_d); the result is float RGB.
    """
    diffuse = ramp(half_lambert(segment_normals(labels), light))
    base = np.asarray(colours, dtype=np.float32)[labels]
    return base * (ambient + (1 - ambient) * diffuse)[..., None]


def sobel_contours(image: np.ndarray, threshold: float = 60.0) -> np.ndarray:
    """Contour mask: pixels whose Sobel gradient magnitude on the colour buffer's gray exceeds ``threshold``."""
    gray = cv2.cvtColor(np.clip(image, 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY).astype(np.float32)
    magnitude = np.hypot(cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3))
    return magnitude > threshold


def cel_render(
    background: np.ndarray, labels: np.ndarray, colours: np.ndarray, light: np.ndarray, contour: tuple[int, int, int] = (25, 20, 30)
) -> np.ndarray:
    """The drawing's segments cel-shaded over ``background``, with Sobel contours on the shaded buffer."""
    shaded = cel_shade(labels, colours, light)
    image = np.where((labels > 0)[..., None], shaded, background.astype(np.float32))
    out = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    out[sobel_contours(np.where((labels > 0)[..., None], shaded, 255.0))] = contour
    return out


# ---------------------------------------------------------------- textures (§3.4, Fig. 5)


def _smooth_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Value noise in [0, 1]: a ``cells`` x ``cells`` random grid resized smoothly to ``size``."""
    grid = rng.random((cells, cells)).astype(np.float32)
    return cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC).clip(0, 1)


def pencil_texture(rng: np.random.Generator, size: int) -> np.ndarray:
    """Parallel graphite strokes: noise smeared along x by a long line kernel (white paper, gray strokes)."""
    noise = rng.random((size, size)).astype(np.float32)
    length = max(5, size // 6)
    strokes = cv2.filter2D(noise, -1, np.full((1, length), 1.0 / length, np.float32), borderType=cv2.BORDER_REFLECT_101)
    strokes = (strokes - strokes.min()) / max(float(np.ptp(strokes)), 1e-6)
    return (255 * (0.45 + 0.55 * strokes)).astype(np.uint8)


def crayon_texture(rng: np.random.Generator, size: int) -> np.ndarray:
    """Waxy crayon: blotches of coarse value noise with paper grain showing through as white specks."""
    blotch = _smooth_noise(rng, size, max(3, size // 12))
    grain = rng.random((size, size)).astype(np.float32)
    paper = grain > 0.8 + 0.15 * blotch
    value = 110 + 110 * blotch
    value[paper] = 250
    return value.astype(np.uint8)


def custom_texture(rng: np.random.Generator, size: int) -> np.ndarray:
    """A designed texture (Fig. 5f): cross-hatching of random spacing and stroke width."""
    spacing, width = int(rng.integers(4, 9)), int(rng.integers(1, 3))
    y, x = np.mgrid[0:size, 0:size]
    hatch = ((x + y) % spacing < width) | ((x - y) % (spacing + 2) < width)
    return np.where(hatch, 90, 245).astype(np.uint8)


def make_texture(rng: np.random.Generator, kind: str, size: int) -> np.ndarray:
    makers = {"pencil": pencil_texture, "crayon": crayon_texture, "custom": custom_texture}
    return makers[kind](rng, size)


def rotate_texture(texture: np.ndarray, angle: float) -> np.ndarray:
    """The texture rotated by ``angle`` degrees about its centre, wrapped so no corner is left empty."""
    h, w = texture.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(texture, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)


# ---------------------------------------------------------------- hand-drawing filter (§3.4, eq. 2)


def mean_shift_segments(image: np.ndarray, spatial: float = 6.0, colour: float = 20.0) -> np.ndarray:
    """Segment labels 0..n−1: pixels sharing a colour after ``cv2.pyrMeanShiftFiltering`` (coarsened to 16 levels)."""
    filtered = cv2.pyrMeanShiftFiltering(np.ascontiguousarray(image), spatial, colour) // 16
    packed = filtered[..., 0].astype(np.int32) << 8 | filtered[..., 1].astype(np.int32) << 4 | filtered[..., 2]
    return np.unique(packed, return_inverse=True)[1].reshape(image.shape[:2])


def segment_texture(labels: np.ndarray, texture: np.ndarray, angles: Sequence[float]) -> np.ndarray:
    """Per-pixel texture: segment ``k`` shows ``texture`` rotated by ``angles[k]``."""
    out = np.empty(labels.shape, dtype=np.uint8)
    for k in np.unique(labels):
        mask = labels == k
        out[mask] = rotate_texture(texture, float(angles[k]))[mask]
    return out


def pencil_gray(image: np.ndarray, texture: np.ndarray, edge_strength: float = 1.0) -> np.ndarray:
    """G before equalisation: pencil tone (a lightened grayscale) times the texture, darkened by gradient edges."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    magnitude = np.hypot(cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3))
    edges = np.clip(edge_strength * magnitude / 255.0, 0, 1)
    tone = 255 - 0.6 * (255 - gray)
    return np.clip(tone * texture.astype(np.float32) / 255 * (1 - edges), 0, 255).astype(np.uint8)


def apply_gray(image: np.ndarray, gray: np.ndarray) -> np.ndarray:
    """Eq. 2, ``I + G − G∘I/255``, with G's one channel broadcast to the three of I."""
    i = image.astype(np.float32)
    g = gray.astype(np.float32)[..., None]
    return np.clip(np.rint(i + g - g * i / 255), 0, 255).astype(np.uint8)


def pencil_drawing(image: np.ndarray, texture: np.ndarray) -> np.ndarray:
    """G of eq. 2: the pencil drawing with its per-pixel ``texture``, histogram-equalised to darken the strokes."""
    return cv2.equalizeHist(pencil_gray(image, texture))


def hand_drawing(image: np.ndarray, rng: np.random.Generator, kind: str) -> np.ndarray:
    """§3.4's filter: mean-shift segments, one randomly rotated ``kind`` texture each, equalised G, eq. 2."""
    labels = mean_shift_segments(image)
    texture = segment_texture(labels, make_texture(rng, kind, image.shape[0]), rng.uniform(0, 360, int(labels.max()) + 1))
    return apply_gray(image, pencil_drawing(image, texture))
