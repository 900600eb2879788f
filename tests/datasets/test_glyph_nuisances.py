"""The illustration stand-in's ``nuisances`` block against its definitions.

Look-alike families share a silhouette, style parameters do what they declare
(outline width in pixels, palette size, shadow and gradient where they should
be), the block is validated on load with file and field path and is part of
the protocol hash, and with it off an image is the plain one.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
import yaml

from datasets.generators import glyph_nuisances as gn
from datasets.generators._draw import Part, draw_parts, item_rng, pose_matrix, rect
from datasets.generators._glyph_shapes import CLASS_SHAPES, Palette
from datasets.generators.glyphs import full_palette, render
from datasets.generators.degrade import Degradations
from datasets.spec import SpecError, load_spec, spec_path

SIZE = 96


def silhouette(shape: list[Part]) -> np.ndarray:
    mask = np.zeros((SIZE, SIZE), np.uint8)
    draw_parts(mask, shape, pose_matrix(SIZE / 2, SIZE / 2, SIZE * 0.4, 0), fill_override=(255, 255, 255))
    return mask > 127


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def square_alpha(lo: int = 30, hi: int = 66) -> np.ndarray:
    alpha = np.zeros((SIZE, SIZE), np.float32)
    alpha[lo:hi, lo:hi] = 1.0
    return alpha


# ---------------------------------------------------------------- look-alike families


def family_masks(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    palette = full_palette(rng)
    return {name: silhouette(gn.lookalike_shape(np.random.default_rng(seed), palette, name)) for name in gn.FAMILY_OF}


def test_look_alikes_overlap_more_within_their_family_than_across_families() -> None:
    masks = family_masks()
    within = [iou(masks[a], masks[b]) for _, members in gn.FAMILIES.values() for a in members for b in members if a < b]
    across = [iou(masks[a], masks[b]) for a in masks for b in masks if a < b and gn.FAMILY_OF[a] != gn.FAMILY_OF[b]]
    assert min(within) > 0.4
    assert min(within) > float(np.median(across))
    for name, mask in masks.items():
        mates = [iou(mask, masks[o]) for o in masks if o != name and gn.FAMILY_OF[o] == gn.FAMILY_OF[name]]
        strangers = [iou(mask, masks[o]) for o in masks if gn.FAMILY_OF[o] != gn.FAMILY_OF[name]]
        assert max(mates) > max(strangers), name


def test_look_alikes_overlap_more_than_the_classes_own_shapes_do() -> None:
    rng = np.random.default_rng(0)
    palette = full_palette(rng)
    own = {name: silhouette(CLASS_SHAPES[name](np.random.default_rng(0), palette)) for name in gn.FAMILY_OF}
    masks = family_masks()
    for _, members in gn.FAMILIES.values():
        pairs = [(a, b) for a in members for b in members if a < b]
        assert np.mean([iou(masks[a], masks[b]) for a, b in pairs]) > np.mean([iou(own[a], own[b]) for a, b in pairs])


def test_every_family_member_is_an_illustration_class_told_apart_by_its_details() -> None:
    assert set(gn.FAMILY_OF) <= set(CLASS_SHAPES)
    palette = full_palette(np.random.default_rng(0))
    matrix = pose_matrix(SIZE / 2, SIZE / 2, SIZE * 0.4, 0)
    drawn = {}
    for name in gn.FAMILY_OF:
        image = np.full((SIZE, SIZE, 3), 255, np.uint8)
        draw_parts(image, gn.lookalike_shape(np.random.default_rng(0), palette, name), matrix)
        drawn[name] = image
    for _, members in gn.FAMILIES.values():
        assert len(members) >= 2
        for a in members:
            for b in members:
                if a < b:
                    assert np.any(drawn[a] != drawn[b], axis=2).mean() > 0.03, (a, b)


# ---------------------------------------------------------------- styles


@pytest.mark.parametrize("width", [1, 3, 6])
def test_the_silhouette_outline_is_outline_px_wide_and_outside_the_object(width: int) -> None:
    image = np.full((SIZE, SIZE, 3), 255, np.uint8)
    out = gn.silhouette_outline(image, square_alpha(), width, (10, 20, 30))
    ink = np.all(out == (10, 20, 30), axis=2)
    assert not ink[30:66, 30:66].any()
    row = ink[48]
    assert row[30 - width : 30].all() and not row[: 30 - width].any()
    assert row[66 : 66 + width].all() and not row[66 + width :].any()


@pytest.mark.parametrize("size", [2, 3, 5, 7])
def test_a_limited_palette_has_exactly_palette_size_colours_all_from_the_original(size: int) -> None:
    rng = np.random.default_rng(size)
    original = full_palette(rng)
    limited = gn.limited_palette(rng, original, size)
    colours = {getattr(limited, f.name) for f in fields(Palette)}
    assert len({getattr(original, f.name) for f in fields(Palette)}) == 7
    assert len(colours) == size
    assert colours <= {getattr(original, f.name) for f in fields(Palette)}


def test_the_drop_shadow_darkens_only_below_right_of_the_object() -> None:
    background = np.full((SIZE, SIZE, 3), 200, np.uint8)
    out = gn.drop_shadow(background, square_alpha(), np.random.default_rng(0))
    darker = out[..., 0] < 200
    assert darker[60:70, 60:70].any()
    assert not darker[:28, :].any() and not darker[:, :28].any()
    assert (out <= background).all()


def test_the_gradient_brightens_one_side_darkens_the_other_and_leaves_the_outside() -> None:
    image = np.full((SIZE, SIZE, 3), 128, np.uint8)
    alpha = square_alpha()
    out = gn.gradient_fill(image, alpha, np.random.default_rng(0)).astype(int)
    inside = out[alpha > 0, 0]
    assert inside.max() > 140 and inside.min() < 116
    assert (out[alpha == 0] == 128).all()


def test_sketchy_outlines_stay_near_the_contours() -> None:
    image = np.full((SIZE, SIZE, 3), 255, np.uint8)
    shape = [Part(rect(-0.5, -0.5, 0.5, 0.5), (200, 0, 0))]
    matrix = pose_matrix(SIZE / 2, SIZE / 2, 30, 0)
    out = gn.sketch_outlines(image, shape, matrix, np.random.default_rng(0), 1.0, (0, 0, 0))
    drawn = np.argwhere(np.any(out != 255, axis=2))
    distance = np.minimum(np.abs(drawn - 33).min(1), np.abs(drawn - 63).min(1))
    assert len(drawn) > 100 and distance.max() <= 5
    assert not np.any(out[40:56, 40:56] != 255)


# ---------------------------------------------------------------- the block in the spec


def illustration_nuisances(tmp_path: Path, **changes: object) -> Path:
    document = yaml.safe_load(spec_path("illustration").read_text())
    document["dataset"]["synthetic"]["nuisances"] = dict(changes)  # in place of the bundled block
    path = tmp_path / "illustration.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"lookalike": 1.5}, "dataset.synthetic.nuisances.lookalike"),
        ({"outline_px": 0}, "dataset.synthetic.nuisances.outline_px"),
        ({"palette_size": 1}, "dataset.synthetic.nuisances.palette_size"),
        ({"designs": 5}, "dataset.synthetic.nuisances.designs"),
        ({"degradations": {"noise": -0.1}}, "dataset.synthetic.nuisances.degradations.noise"),
        ({"glitter": 0.1}, "dataset.synthetic.nuisances.glitter"),
    ],
)
def test_a_bad_nuisance_is_rejected_with_the_file_and_field_path(tmp_path: Path, changes: dict, field: str) -> None:
    path = illustration_nuisances(tmp_path, **changes)
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert caught.value.field == field and str(path) in str(caught.value)


def test_the_nuisances_are_part_of_the_protocol_hash(tmp_path: Path) -> None:
    bundled = load_spec("illustration")
    assert bundled.dataset.synthetic.params.nuisances == gn.ClipartNuisances(outline=0.5, gradient=0.3, designs=2, lookalike=0.1)
    assert load_spec(illustration_nuisances(tmp_path, outline=0.5, gradient=0.3, designs=2, lookalike=0.1)).spec_hash() == bundled.spec_hash()
    shadowed = load_spec(illustration_nuisances(tmp_path, shadow=0.9)).spec_hash()
    assert shadowed != bundled.spec_hash()
    assert load_spec(illustration_nuisances(tmp_path, shadow=0.9)).spec_hash() == shadowed
    assert load_spec(illustration_nuisances(tmp_path, shadow=0.5)).spec_hash() != shadowed


def test_with_every_nuisance_off_an_image_is_the_plain_one_and_with_them_on_it_is_not() -> None:
    plain = render(item_rng(0, "clipart_glyphs", 5), "toaster", 64)
    off = render(item_rng(0, "clipart_glyphs", 5), "toaster", 64, gn.ClipartNuisances())
    np.testing.assert_array_equal(plain, off)
    busy = gn.ClipartNuisances(lookalike=1.0, outline=1.0, degradations=Degradations(jpeg=1.0))
    assert not np.array_equal(plain, render(item_rng(0, "clipart_glyphs", 5), "toaster", 64, busy))


def test_a_nuisance_image_is_deterministic() -> None:
    busy = gn.ClipartNuisances(outline=0.5, sketchy=0.5, gradient=0.5, shadow=0.5, palette_size=3, designs=4, lookalike=0.5,
                               degradations=Degradations(blur=0.5, noise=0.5, jpeg=0.5, downscale=0.5))
    for index in range(6):
        first = render(item_rng(3, "clipart_glyphs", index), "harp", 64, busy)
        np.testing.assert_array_equal(first, render(item_rng(3, "clipart_glyphs", index), "harp", 64, busy))
