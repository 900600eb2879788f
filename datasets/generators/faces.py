"""``cartoon_faces``: procedural cartoon faces with identities, for icartoonface.

An identity is a set of attributes drawn from small shared vocabularies (face
shape, skin tone, hair style and colour, eyes, brows, nose, beard, glasses,
hat, earrings, shirt) plus a few continuous proportions. A share of the
identities (``nuisances.lookalike``, a third unless the spec says otherwise)
are perturbed copies of an earlier one (one or two attributes changed,
proportions nudged), so look-alike identities exist. Every image of an
identity adds its own nuisances: yaw (horizontal squash, features shifted
sideways), roll, mirror, expression (mouth and brows), scale and position,
colour shift, background, sometimes an occluding object, and what the
``nuisances`` block adds (per-image recolouring, degradations; see
``face_nuisances``). ``box`` is the face outline's bounding box in image
pixels, jittered by up to ``nuisances.box_jitter`` of its side.

With ``enlarged_rate`` set, each image is written as the release's images
are: cropped around its (jittered) box at that rate (``datasets.face_crop``,
the paper's Table 3 sweep), the box in crop coordinates. Unset, the whole
picture is written and a face baseline crops it at rate 1.0 itself.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import partial
from pathlib import Path

import cv2
import numpy as np
from pydantic import Field, model_validator

from datasets.components import Params
from datasets.face_crop import crop_enlarged
from datasets.generators.base import register_generator
from datasets.generators._draw import (
    RGB,
    Part,
    bezier,
    draw_parts,
    ellipse,
    generator_tag,
    item_rng,
    jitter_colour,
    opaque_id,
    poly,
    pose_matrix,
    random_colour,
    rect,
    ring,
    rounded_rect,
    shade,
    solid,
    transform,
    vertical_gradient,
    write_png,
)
from datasets.generators._parallel import ItemMaker, make_all
from datasets.generators.face_nuisances import FaceNuisances, draw_recolouring, jitter_box, recolour_identity
from datasets.generators.degrade import degrade_all
from datasets.manifest import ManifestItem

NAME = "cartoon_faces"
BLACK: RGB = (30, 25, 30)
WHITE: RGB = (250, 250, 250)
SKIN_TONES: tuple[RGB, ...] = ((255, 224, 196), (241, 194, 155), (224, 172, 120), (198, 134, 86), (141, 85, 54), (255, 205, 180))
HAIR_COLOURS: tuple[RGB, ...] = ((30, 25, 25), (90, 55, 30), (160, 100, 45), (235, 200, 110), (200, 70, 40), (150, 150, 155), (70, 90, 200), (220, 90, 160))
EYE_COLOURS: tuple[RGB, ...] = ((70, 45, 25), (60, 110, 190), (60, 140, 80), (110, 110, 120), (150, 60, 160))
ACCESSORY_COLOURS: tuple[RGB, ...] = ((40, 40, 45), (200, 40, 40), (40, 80, 190), (235, 190, 40), (60, 160, 90), (240, 240, 240))
SHAPES, HAIR_STYLES, EYE_STYLES, BROW_STYLES, NOSE_STYLES = 4, 10, 4, 3, 3
BEARDS, GLASSES, HATS, EARRINGS = 3, 4, 4, 3
EXPRESSIONS = ("smile", "neutral", "open", "frown", "surprised")


class CartoonFacesParams(Params):
    identities: int = Field(gt=1)
    images_per_identity: tuple[int, int]
    size: int = Field(ge=32)
    nuisances: FaceNuisances = FaceNuisances()
    enlarged_rate: float | None = Field(None, ge=0.0)

    @model_validator(mode="after")
    def _check_range(self) -> "CartoonFacesParams":
        low, high = self.images_per_identity
        if not 1 <= low <= high:
            raise ValueError(f"images_per_identity: expected [min, max] with 1 <= min <= max, got [{low}, {high}]")
        return self


@dataclass(frozen=True)
class Identity:
    shape: int
    width: float
    height: float
    skin: RGB
    hair_style: int
    hair: RGB
    eye_style: int
    eye_colour: RGB
    eye_size: float
    eye_gap: float
    eye_y: float
    brow_style: int
    nose_style: int
    mouth_width: float
    beard: int
    glasses: int
    hat: int
    earrings: int
    accessory: RGB
    shirt: RGB


def _pick(rng: np.random.Generator, options: tuple[RGB, ...]) -> RGB:
    return jitter_colour(rng, options[int(rng.integers(len(options)))], 6)


def _rare(rng: np.random.Generator, count: int, p_none: float) -> int:
    return 0 if rng.random() < p_none else int(rng.integers(1, count))


def new_identity(rng: np.random.Generator) -> Identity:
    return Identity(
        shape=int(rng.integers(SHAPES)), width=rng.uniform(0.55, 0.7), height=rng.uniform(0.7, 0.85),
        skin=_pick(rng, SKIN_TONES), hair_style=int(rng.integers(HAIR_STYLES)), hair=_pick(rng, HAIR_COLOURS),
        eye_style=int(rng.integers(EYE_STYLES)), eye_colour=_pick(rng, EYE_COLOURS), eye_size=rng.uniform(0.8, 1.25),
        eye_gap=rng.uniform(0.2, 0.3), eye_y=rng.uniform(-0.15, 0.0), brow_style=int(rng.integers(BROW_STYLES)),
        nose_style=int(rng.integers(NOSE_STYLES)), mouth_width=rng.uniform(0.12, 0.25), beard=_rare(rng, BEARDS, 0.75),
        glasses=_rare(rng, GLASSES, 0.65), hat=_rare(rng, HATS, 0.7), earrings=_rare(rng, EARRINGS, 0.7),
        accessory=_pick(rng, ACCESSORY_COLOURS), shirt=random_colour(rng, (0.3, 0.8), (0.4, 0.9)),
    )


def look_alike(rng: np.random.Generator, parent: Identity, changes: tuple[int, int] = (1, 2)) -> Identity:
    """A copy of ``parent`` with ``changes`` [min, max] attributes redrawn and proportions nudged."""
    fresh = new_identity(rng)
    names = [f.name for f in fields(Identity) if f.name not in ("width", "height", "eye_gap", "eye_size", "eye_y", "mouth_width")]
    changed = {name: getattr(fresh, name) for name in rng.choice(names, size=int(rng.integers(changes[0], changes[1] + 1)), replace=False)}
    nudged = {name: getattr(parent, name) * rng.uniform(0.95, 1.05) for name in ("width", "height", "eye_gap", "eye_size", "mouth_width")}
    return replace(parent, **changed, **nudged)


def make_identities(count: int, seed: int, nuisances: FaceNuisances = FaceNuisances()) -> tuple[list[Identity], list[int | None]]:
    """The identity table and, for each identity, the earlier identity it is a look-alike of (None if drawn afresh)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, generator_tag(NAME), 1 << 30]))
    identities: list[Identity] = []
    parents: list[int | None] = []
    for index in range(count):
        if index > 0 and rng.random() < nuisances.lookalike:
            parents.append(int(rng.integers(index)))
            identities.append(look_alike(rng, identities[parents[-1]], nuisances.lookalike_changes))
        else:
            parents.append(None)
            identities.append(new_identity(rng))
    return identities, parents


# ---------------------------------------------------------------- face parts


def face_outline(who: Identity) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    c, s = np.cos(t), np.sin(t)
    lower = s > 0
    power = {0: 2.0, 1: 2.0, 2: 3.6, 3: 2.0}[who.shape]
    taper = {0: 0.0, 1: 0.1, 2: 0.0, 3: 0.35}[who.shape]
    height = who.height * (1.12 if who.shape == 1 else 1.0)
    x = who.width * np.sign(c) * np.abs(c) ** np.where(lower, 2 / power, 1.0)
    y = height * np.sign(s) * np.abs(s) ** np.where(lower, 2 / power, 1.0)
    x = np.where(lower, x * (1 - taper * s), x)
    return np.stack([x, y], axis=1)


def hair_parts(who: Identity, behind: bool) -> list[Part]:
    w, h, style, colour = who.width, who.height, who.hair_style, who.hair
    if behind:
        back = {3: rounded_rect(-w * 1.18, -h * 1.05, w * 1.18, 0.95, 0.4), 8: ellipse(0, -h * 0.3, w * 1.45, h * 1.1), 7: ellipse(w * 1.1, 0.1, 0.22, 0.45, -20)}
        return [Part(back[style], colour)] if style in back else []
    if style == 5:
        return [Part(ellipse(side * w * 0.95, -0.15, 0.1, 0.2), colour) for side in (-1, 1)]
    cap_bottom = {6: -h * 0.2, 1: -h * 0.35}.get(style, -h * 0.45)
    cap = ellipse(0, cap_bottom, w * 1.06, h + cap_bottom + 0.1, 0, 180, 360, 32)
    parts = [Part(cap, colour, group=11)]
    if style == 1:
        parts += [Part(rect(side * w * 1.06 - 0.09, cap_bottom - 0.05, side * w * 1.06 + 0.09, 0.35), colour, group=11) for side in (-1, 1)]
    elif style == 2:
        parts += [Part(poly((x - 0.12, -h * 0.9), (x + 0.02, -h - 0.3), (x + 0.12, -h * 0.9)), colour, group=11) for x in (-0.35, -0.1, 0.15, 0.38)]
    elif style == 4:
        parts.append(Part(ellipse(0, -h - 0.15, 0.22, 0.2), colour, group=11))
    elif style == 9:
        return [Part(rounded_rect(-0.1, -h - 0.25, 0.1, -h * 0.4, 0.08), colour)]
    return parts


def eye_parts(who: Identity, x: float, y: float, surprised: bool) -> list[Part]:
    r = 0.075 * who.eye_size * (1.2 if surprised else 1.0)
    if who.eye_style == 0:
        return [Part(ellipse(x, y, r * 0.6, r * 0.75), BLACK, outline=False)]
    if who.eye_style == 2:
        return [Part(ellipse(x, y, r * 1.1, r * 1.5), WHITE), Part(ellipse(x, y + r * 0.2, r * 0.8, r * 1.1), who.eye_colour, outline=False),
                Part(ellipse(x, y + r * 0.3, r * 0.4, r * 0.5), BLACK, outline=False), Part(ellipse(x - r * 0.35, y - r * 0.3, r * 0.25, r * 0.25), WHITE, outline=False)]
    parts = [Part(ellipse(x, y, r * 1.3, r * 0.9), WHITE), Part(ellipse(x, y, r * 0.6, r * 0.6), who.eye_colour, outline=False), Part(ellipse(x, y, r * 0.3, r * 0.3), BLACK, outline=False)]
    if who.eye_style == 3 and not surprised:
        parts.append(Part(ellipse(x, y, r * 1.35, r * 0.95, 0, 180, 360, 16), who.skin))
    return parts


def brow_parts(who: Identity, x: float, y: float, side: int, raise_by: float, tilt: float) -> list[Part]:
    span = 0.11
    bend = {0: 0.0, 1: -0.05, 2: 0.02}[who.brow_style]
    inner = (x - side * span, y - raise_by + tilt)
    outer = (x + side * span, y - raise_by - tilt)
    width = 0.045 if who.brow_style == 2 else 0.03
    return [Part(bezier(inner, ((inner[0] + outer[0]) / 2, min(inner[1], outer[1]) + bend), outer), shade(who.hair, 0.7), closed=False, width=width, outline=False)]


def mouth_parts(who: Identity, x: float, y: float, expression: str) -> list[Part]:
    half = who.mouth_width
    lip = (170, 60, 70)
    if expression == "open":
        return [Part(np.vstack([ellipse(x, y, half, half * 0.8, 0, 0, 180, 16), poly((x - half, y))]), (110, 30, 40)), Part(ellipse(x, y + half * 0.45, half * 0.5, half * 0.25), (230, 100, 110), outline=False)]
    if expression == "surprised":
        return [Part(ellipse(x, y, half * 0.35, half * 0.45), (110, 30, 40))]
    bend = {"smile": 0.09, "neutral": 0.0, "frown": -0.07}[expression]
    return [Part(bezier((x - half, y), (x, y + bend), (x + half, y)), lip, closed=False, width=0.03, outline=False)]


def nose_parts(who: Identity, x: float, y: float) -> list[Part]:
    dark = shade(who.skin, 0.75)
    if who.nose_style == 0:
        return [Part(ellipse(x, y, 0.04, 0.03), dark, outline=False)]
    if who.nose_style == 1:
        return [Part(poly((x, y - 0.12), (x - 0.04, y + 0.02), (x + 0.03, y + 0.03)), dark, closed=False, width=0.02, outline=False)]
    return [Part(poly((x, y - 0.1), (x - 0.06, y + 0.03), (x + 0.06, y + 0.03)), shade(who.skin, 0.9))]


def accessory_parts(who: Identity, shift: float, eye_y: float) -> list[Part]:
    parts: list[Part] = []
    w, h = who.width, who.height
    if who.glasses:
        r = 0.085 * who.eye_size + 0.04
        for side in (-1, 1):
            x = shift + side * who.eye_gap
            frame = ellipse(x, eye_y, r * 1.2, r) if who.glasses != 2 else rounded_rect(x - r * 1.2, eye_y - r, x + r * 1.2, eye_y + r, 0.03)
            parts.append(Part(frame, (30, 30, 40), outline=False) if who.glasses == 3 else Part(ring(frame), who.accessory, closed=False, width=0.03))
        parts.append(Part(poly((shift - who.eye_gap + r * 1.2, eye_y), (shift + who.eye_gap - r * 1.2, eye_y)), who.accessory, closed=False, width=0.03))
    if who.hat == 1:
        parts += [Part(ellipse(0, -h * 0.55, w * 1.08, h * 0.55, 0, 180, 360, 24), who.accessory, group=12), Part(rect(-w * 1.1, -h * 0.6, w * 1.6, -h * 0.48), who.accessory, group=12)]
    elif who.hat == 2:
        parts += [Part(ellipse(0, -h * 0.5, w * 1.1, h * 0.62, 0, 180, 360, 24), who.accessory), Part(rounded_rect(-w * 1.12, -h * 0.62, w * 1.12, -h * 0.42, 0.05), shade(who.accessory, 0.7))]
    elif who.hat == 3:
        parts += [Part(rect(-w * 0.7, -h - 0.55, w * 0.7, -h * 0.6), who.accessory, group=12), Part(rect(-w * 1.25, -h * 0.7, w * 1.25, -h * 0.58), who.accessory, group=12)]
    return parts


def face_parts(who: Identity, expression: str, yaw: float) -> list[Part]:
    shift = yaw * 0.2
    w, h = who.width, who.height
    eye_y = who.eye_y
    raise_by = {"surprised": 0.06, "frown": -0.02}.get(expression, 0.0)
    tilt = 0.03 if expression == "frown" else 0.0
    outline = face_outline(who)
    parts = hair_parts(who, behind=True)
    parts += [Part(rect(-0.16, h * 0.6, 0.16, h + 0.3), who.skin), Part(rounded_rect(-0.9, h + 0.15, 0.9, 1.6, 0.3), who.shirt)]
    parts += [Part(ellipse(side * w - shift * 0.5, 0.05, 0.1, 0.16), who.skin) for side in (-1, 1) if side * yaw <= 0.25]
    parts.append(Part(outline, who.skin))
    if who.earrings:
        for side in (-1, 1):
            if side * yaw <= 0.25:
                stud = ellipse(side * w - shift * 0.5, 0.24, 0.035, 0.035) if who.earrings == 1 else ring(ellipse(side * w - shift * 0.5, 0.3, 0.06, 0.07))
                parts.append(Part(stud, who.accessory, closed=who.earrings == 1, width=0.02))
    if who.beard == 2:
        parts.append(Part(outline[outline[:, 1] > h * 0.2], who.hair))
    parts += [Part(ellipse(shift + side * 0.3, eye_y + 0.25, 0.08, 0.05), (240, 150, 150), outline=False) for side in (-1, 1)]
    for side in (-1, 1):
        x = shift + side * who.eye_gap
        parts += eye_parts(who, x, eye_y, expression == "surprised")
        parts += brow_parts(who, x, eye_y - 0.15, side, raise_by, tilt * side)
    parts += nose_parts(who, shift * 1.2, eye_y + 0.2)
    if who.beard == 1:
        parts += [Part(ellipse(shift * 1.2 + side * 0.08, eye_y + 0.32, 0.1, 0.04, side * 15), who.hair) for side in (-1, 1)]
    parts += mouth_parts(who, shift * 1.1, eye_y + 0.45, expression)
    parts += hair_parts(who, behind=False)
    return parts + accessory_parts(who, shift, eye_y)


# ---------------------------------------------------------------- images


def background(rng: np.random.Generator, size: int) -> np.ndarray:
    kind = rng.integers(3)
    if kind == 0:
        return solid(size, random_colour(rng, (0.05, 0.6), (0.5, 1.0)))
    image = vertical_gradient(size, random_colour(rng, (0.1, 0.6), (0.5, 1.0)), random_colour(rng, (0.1, 0.6), (0.4, 1.0)))
    if kind == 2:
        for _ in range(int(rng.integers(2, 7))):
            x, y = rng.uniform(0, size, 2)
            draw_parts(image, [Part(ellipse(0, 0, 1, rng.uniform(0.4, 1.0)), random_colour(rng))], pose_matrix(x, y, size * rng.uniform(0.05, 0.2), rng.uniform(0, 180)))
    return image


def occluder(rng: np.random.Generator) -> list[Part]:
    colour = random_colour(rng, (0.2, 0.9), (0.3, 0.95))
    kind = rng.integers(3)
    if kind == 0:
        return [Part(rect(-1, -0.6, 1, 0.6), colour)]
    if kind == 1:
        return [Part(ellipse(0, 0, 1, 1), colour), Part(ellipse(-0.3, -0.3, 0.25, 0.2), shade(colour, 1.5), outline=False)]
    return [Part(ring(ellipse(0.9, 0, 0.35, 0.45)), colour, closed=False, width=0.15), Part(rounded_rect(-0.7, -0.8, 0.7, 0.8, 0.15), colour)]


def render(
    rng: np.random.Generator, who: Identity, size: int, nuisances: FaceNuisances = FaceNuisances()
) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """One image and its face box; the block's additions draw from a child RNG, so its defaults leave the image as it was."""
    extra = rng.spawn(1)[0]
    who = recolour_identity(who, draw_recolouring(extra, nuisances))
    image = background(rng, size)
    expression = EXPRESSIONS[int(rng.integers(len(EXPRESSIONS)))]
    yaw = rng.uniform(-nuisances.yaw, nuisances.yaw)
    scale = size * rng.uniform(0.27, 0.36)
    centre = size / 2 + rng.uniform(-0.1, 0.1, 2) * size + [0, size * 0.05]
    matrix = pose_matrix(centre[0], centre[1], scale, rng.uniform(-nuisances.roll, nuisances.roll), bool(rng.random() < 0.5), 1 - 0.3 * abs(yaw))
    outline_px = size / 112 * rng.uniform(0.8, 2.0)
    draw_parts(image, face_parts(who, expression, yaw), matrix, outline_px)
    corners = transform(face_outline(who), matrix)
    low = np.clip(np.floor(corners.min(axis=0)), 0, size - 1).astype(int)
    high = np.clip(np.ceil(corners.max(axis=0)), 0, size - 1).astype(int)
    if rng.random() < nuisances.occlusion:
        where = rng.uniform(low, np.maximum(high, low + 1))
        draw_parts(image, occluder(rng), pose_matrix(where[0], where[1], (high[0] - low[0]) * rng.uniform(0.15, 0.3), rng.uniform(-40, 40)), outline_px)
    gains, offset = rng.normal(1.0, 0.06, 3), rng.normal(0, 8)
    shifted = cv2.add(cv2.multiply(image, (*gains, 0.0)), (offset, offset, offset, 0.0))
    box = jitter_box(extra, (int(low[0]), int(low[1]), int(high[0]), int(high[1])), nuisances.box_jitter, size)
    return degrade_all(shifted, extra, nuisances.degradations), box


def make_item(params: CartoonFacesParams, identities: list[Identity], owners: list[int], seed: int, folder: Path, index: int) -> ManifestItem:
    owner = owners[index]
    rng = item_rng(seed, NAME, index)
    item_id = opaque_id(NAME, seed, index)
    image, box = render(rng, identities[owner], params.size, params.nuisances)
    if params.enlarged_rate is not None:
        image, box = crop_enlarged(image, box, params.enlarged_rate)
    return ManifestItem(id=item_id, path=write_png(folder, item_id, image), identity=str(owner), box=box)


def plan(params: CartoonFacesParams, classes: list[str], seed: int, folder: Path) -> tuple[int, ItemMaker]:
    identities, _ = make_identities(params.identities, seed, params.nuisances)
    count_rng = np.random.default_rng(np.random.SeedSequence([seed, generator_tag(NAME), (1 << 30) + 1]))
    low, high = params.images_per_identity
    counts = count_rng.integers(low, high + 1, size=params.identities)
    owners = [int(owner) for owner in np.repeat(np.arange(params.identities), counts)]
    return len(owners), partial(make_item, params, identities, owners, seed, folder)


@register_generator(NAME, tasks=("identification_verification",), params=CartoonFacesParams)
def generate(params: CartoonFacesParams, classes: list[str], seed: int, folder: Path) -> list[ManifestItem]:
    """``identities`` identities with ``images_per_identity`` [min, max] images each."""
    return make_all(plan, params, classes, seed, folder, desc=NAME)
