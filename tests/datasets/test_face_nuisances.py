"""The iCartoonFace stand-in's ``nuisances`` block against its definitions.

Per-image recolouring (the failure case of the iCartoonFace paper's §5,
Fig. 11), the look-alike rate, box jitter; validated on load and part of the
protocol hash.
"""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from datasets.generators import face_nuisances as fn
from datasets.generators._draw import item_rng
from datasets.generators.faces import Identity, face_parts, make_identities, new_identity, render
from datasets.spec import SpecError, load_spec, spec_path

PROPORTIONS = ("width", "height", "eye_gap", "eye_size", "mouth_width")


def hue_degrees(colour: tuple[int, int, int]) -> float:
    """The colour's HSV hue in degrees, computed independently of the generator (matplotlib's conversion)."""
    from matplotlib.colors import rgb_to_hsv

    return float(rgb_to_hsv(np.array(colour, dtype=float) / 255)[0] * 360)


def hue_turn(before: tuple[int, int, int], after: tuple[int, int, int]) -> float:
    """The signed hue change from ``before`` to ``after`` in (-180, 180] degrees."""
    return (hue_degrees(after) - hue_degrees(before) + 180) % 360 - 180


def saturated_identity() -> Identity:
    """An identity whose colours are saturated enough for the hue to be measured to a degree or two."""
    who = new_identity(np.random.default_rng(3))
    colours = {"skin": (230, 150, 90), "hair": (200, 70, 40), "shirt": (40, 90, 210), "eye_colour": (60, 140, 80), "accessory": (235, 190, 40)}
    return replace(who, **colours, glasses=0, beard=0, hat=0)


# ---------------------------------------------------------------- recolouring


@pytest.mark.parametrize("degrees", [-90.0, 30.0, 120.0])
def test_recolouring_turns_the_named_parts_hue_by_the_declared_amount_and_nothing_else(degrees: float) -> None:
    who = saturated_identity()
    turned = fn.recolour_identity(who, {"hair": degrees, "shirt": degrees / 2})
    assert hue_turn(who.hair, turned.hair) == pytest.approx(degrees, abs=3)
    assert hue_turn(who.shirt, turned.shirt) == pytest.approx(degrees / 2, abs=3)
    for field in fields(Identity):
        if field.name not in ("hair", "shirt"):
            assert getattr(turned, field.name) == getattr(who, field.name), field.name


def test_a_recoloured_face_has_the_same_geometry_with_the_named_parts_colours_turned() -> None:
    who = saturated_identity()
    plain = face_parts(who, "smile", 0.2)
    recoloured = face_parts(fn.recolour_identity(who, {"skin": 60.0}), "smile", 0.2)
    assert len(plain) == len(recoloured)
    skin_parts = 0
    for before, after in zip(plain, recoloured):
        np.testing.assert_array_equal(before.points, after.points)
        if before.colour == who.skin:
            skin_parts += 1
            assert hue_turn(before.colour, after.colour) == pytest.approx(60, abs=3)
        elif before.colour in (who.hair, who.shirt, who.accessory, who.eye_colour):
            assert after.colour == before.colour
    assert skin_parts >= 3  # neck, ears, face outline at least


def test_recolouring_draws_a_shift_per_named_part_within_the_bound_at_the_declared_rate() -> None:
    settings = fn.FaceNuisances(recolour=0.3, hue_shift=45, recolour_parts=("hair", "eyes"))
    draws = [fn.draw_recolouring(np.random.default_rng(seed), settings) for seed in range(4000)]
    recoloured = [d for d in draws if d]
    assert all(set(d) == {"hair", "eyes"} and all(-45 <= v <= 45 for v in d.values()) for d in recoloured)
    share = len(recoloured) / len(draws)
    assert abs(share - 0.3) < 4 * np.sqrt(0.3 * 0.7 / len(draws))
    turns = np.array([d["hair"] for d in recoloured])
    assert turns.min() < -40 and turns.max() > 40  # uniform over the whole bound
    assert not any(fn.draw_recolouring(np.random.default_rng(s), fn.FaceNuisances()) for s in range(200))


# ---------------------------------------------------------------- look-alikes


@pytest.mark.parametrize("rate", [0.0, 0.35, 0.7])
def test_the_identity_table_has_the_declared_share_of_look_alikes(rate: float) -> None:
    count = 3000
    identities, parents = make_identities(count, 0, fn.FaceNuisances(lookalike=rate))
    assert len(identities) == len(parents) == count and parents[0] is None
    share = sum(p is not None for p in parents) / (count - 1)
    assert abs(share - rate) <= 4 * np.sqrt(rate * (1 - rate) / count) + 1e-9
    assert all(p is None or p < index for index, p in enumerate(parents))


def test_a_look_alike_redraws_at_most_the_declared_attributes_and_nudges_proportions() -> None:
    settings = fn.FaceNuisances(lookalike=0.8, lookalike_changes=(1, 1))
    identities, parents = make_identities(400, 1, settings)
    attributes = [f.name for f in fields(Identity) if f.name not in (*PROPORTIONS, "eye_y")]
    differing = []
    for child, parent in ((identities[i], identities[p]) for i, p in enumerate(parents) if p is not None):
        differing.append(sum(getattr(child, name) != getattr(parent, name) for name in attributes))
        for name in PROPORTIONS:
            assert 0.95 <= getattr(child, name) / getattr(parent, name) <= 1.05
    assert max(differing) == 1 and np.mean(differing) > 0.5  # a redraw may land on the parent's value


# ---------------------------------------------------------------- box jitter


def test_a_jittered_box_moves_each_edge_within_the_bound_and_still_overlaps_the_face() -> None:
    true, size, fraction = (20, 30, 60, 80), 112, 0.2
    width, height = 40, 50
    rng = np.random.default_rng(0)
    moved = np.array([fn.jitter_box(rng, true, fraction, size) for _ in range(2000)])
    limits = np.array([width, height, width, height]) * fraction + 1
    assert (np.abs(moved - np.array(true)) <= limits).all()
    assert (moved[:, 2] > moved[:, 0]).all() and (moved[:, 3] > moved[:, 1]).all()
    overlap_w = np.minimum(moved[:, 2], true[2]) - np.maximum(moved[:, 0], true[0])
    overlap_h = np.minimum(moved[:, 3], true[3]) - np.maximum(moved[:, 1], true[1])
    assert (overlap_w > 0).all() and (overlap_h > 0).all()
    assert np.abs(moved - np.array(true)).max(axis=0).min() >= width * fraction * 0.8  # the bound is reached
    assert fn.jitter_box(rng, true, 0.0, size) == true


def test_a_jittered_box_stays_inside_the_image() -> None:
    rng = np.random.default_rng(1)
    moved = np.array([fn.jitter_box(rng, (0, 2, 63, 60), 0.3, 64) for _ in range(500)])
    assert (moved >= 0).all() and (moved <= 63).all()


def test_box_jitter_moves_the_recorded_box_but_not_the_drawn_face() -> None:
    who = make_identities(5, 0)[0][2]
    plain_image, plain_box = render(item_rng(0, "cartoon_faces", 4), who, 112)
    image, box = render(item_rng(0, "cartoon_faces", 4), who, 112, fn.FaceNuisances(box_jitter=0.25))
    np.testing.assert_array_equal(image, plain_image)
    assert box != plain_box
    side = np.array([plain_box[2] - plain_box[0], plain_box[3] - plain_box[1]] * 2)
    assert (np.abs(np.array(box) - np.array(plain_box)) <= side * 0.25 + 1).all()


def test_with_the_defaults_an_image_is_the_plain_one_and_with_the_block_on_it_is_not() -> None:
    who = make_identities(5, 0)[0][1]
    plain, box = render(item_rng(0, "cartoon_faces", 9), who, 64)
    same, same_box = render(item_rng(0, "cartoon_faces", 9), who, 64, fn.FaceNuisances())
    np.testing.assert_array_equal(plain, same)
    assert same_box == box
    busy = fn.FaceNuisances(recolour=1.0, degradations={"noise": 1.0})
    assert not np.array_equal(plain, render(item_rng(0, "cartoon_faces", 9), who, 64, busy)[0])


def test_the_recoloured_render_turns_the_skin_hue() -> None:
    """On a rendered image: the face centre's hue moves by the drawn skin shift (the colour gains are the same draw)."""
    who = saturated_identity()
    settings = fn.FaceNuisances(recolour=1.0, hue_shift=90, recolour_parts=("skin",), occlusion=0.0)
    shift = fn.draw_recolouring(item_rng(0, "cartoon_faces", 3).spawn(1)[0], settings)["skin"]
    plain, box = render(item_rng(0, "cartoon_faces", 3), who, 112, fn.FaceNuisances(occlusion=0.0))
    turned, _ = render(item_rng(0, "cartoon_faces", 3), who, 112, settings)
    x, y = (box[0] + box[2]) // 2, (box[1] + box[3]) // 2  # the face's centre, between the eyes: skin or skin-shaded nose
    patch = (slice(y - 1, y + 2), slice(x - 1, x + 2))
    assert (patch_hue(turned[patch]) - patch_hue(plain[patch]) + 180) % 360 - 180 == pytest.approx(shift, abs=6)


def patch_hue(patch: np.ndarray) -> float:
    """The mean OpenCV HSV hue of an RGB patch, in degrees."""
    return float(cv2.cvtColor(patch, cv2.COLOR_RGB2HSV_FULL)[..., 0].astype(float).mean() * 360 / 256)


# ---------------------------------------------------------------- the block in the spec


def icartoonface_nuisances(tmp_path: Path, **changes: object) -> Path:
    document = yaml.safe_load(spec_path("icartoonface").read_text())
    document["dataset"]["synthetic"]["nuisances"].update(changes)
    path = tmp_path / "icartoonface.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"recolour": 1.5}, "dataset.synthetic.nuisances.recolour"),
        ({"box_jitter": 0.6}, "dataset.synthetic.nuisances.box_jitter"),
        ({"recolour_parts": ["nose"]}, "dataset.synthetic.nuisances.recolour_parts.0"),
        ({"lookalike_changes": [2, 1]}, "dataset.synthetic.nuisances"),
        ({"degradations": {"noise_std": -1}}, "dataset.synthetic.nuisances.degradations.noise_std"),
        ({"sparkles": 0.1}, "dataset.synthetic.nuisances.sparkles"),
    ],
)
def test_a_bad_nuisance_is_rejected_with_the_file_and_field_path(tmp_path: Path, changes: dict, field: str) -> None:
    path = icartoonface_nuisances(tmp_path, **changes)
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert caught.value.field == field and str(path) in str(caught.value)


def test_the_nuisances_are_part_of_the_protocol_hash(tmp_path: Path) -> None:
    bundled = load_spec("icartoonface")
    assert bundled.dataset.synthetic.params.nuisances.recolour > 0
    assert load_spec(icartoonface_nuisances(tmp_path)).spec_hash() == bundled.spec_hash()
    assert load_spec(icartoonface_nuisances(tmp_path, box_jitter=0.05)).spec_hash() != bundled.spec_hash()
    assert load_spec(icartoonface_nuisances(tmp_path, lookalike=0.2)).spec_hash() != bundled.spec_hash()
