"""The ToonNet stand-in's styles and nuisances against their definitions.

Hand-drawing filter (ToonNet §3.4, eq. 2), cel shading (§3.2, eq. 1, Fig. 2's
3-level ramp, Sobel contours), the degradations, and the ``nuisances`` block:
validated on load and part of the protocol hash.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from datasets.generators import degrade, toon_nuisances as nz, toon_styles as ts
from datasets.generators.toon_objects import render
from datasets.generators._draw import item_rng
from datasets.spec import SpecError, load_spec, spec_path


def two_halves(size: int = 32, left: tuple[int, int, int] = (200, 60, 40), right: tuple[int, int, int] = (40, 90, 210)) -> np.ndarray:
    image = np.empty((size, size, 3), np.uint8)
    image[:, : size // 2] = left
    image[:, size // 2 :] = right
    return image


# ---------------------------------------------------------------- eq. 2 and G


def test_eq2_keeps_colour_under_black_strokes_whitens_under_white_and_mixes_between() -> None:
    image = np.array([[[100, 0, 255], [100, 0, 255], [100, 0, 255], [10, 20, 30]]], np.uint8)
    gray = np.array([[0, 255, 128, 51]], np.uint8)
    expected = [[100, 0, 255], [255, 255, 255], [100 + 128 - 128 * 100 / 255, 128, 255], [10 + 51 - 51 * 10 / 255, 20 + 51 - 51 * 20 / 255, 30 + 51 - 51 * 30 / 255]]
    np.testing.assert_array_equal(ts.apply_gray(image, gray)[0], np.rint(expected).astype(np.uint8))


def test_g_is_histogram_equalised() -> None:
    gray = np.array([[10, 10, 20, 30]], np.uint8)
    np.testing.assert_allclose(cv2.equalizeHist(gray)[0], [0, 0, 127.5, 255], atol=0.5)  # (cdf − cdf_min) / (N − cdf_min) · 255
    image = cv2.GaussianBlur(two_halves(64), (0, 0), 6)
    texture = ts.pencil_texture(np.random.default_rng(0), 64)
    g = ts.pencil_drawing(image, texture)
    np.testing.assert_array_equal(g, cv2.equalizeHist(ts.pencil_gray(image, texture)))
    assert g.min() == 0 and g.max() == 255
    assert abs((g <= 127).mean() - 0.5) < 0.1  # an equalised histogram is (nearly) flat


def test_the_pencil_gray_is_darkest_on_the_gradient_edge() -> None:
    image = two_halves(32)
    g = ts.pencil_gray(image, np.full((32, 32), 255, np.uint8))
    assert g[:, 15:17].max() < g[:, :12].min() and g[:, 15:17].max() < g[:, 20:].min()


def test_each_mean_shift_segment_gets_the_texture_rotated_by_its_own_angle() -> None:
    image = two_halves(64)
    labels = ts.mean_shift_segments(image)
    left_label, right_label = np.unique(labels[:, :28]), np.unique(labels[:, 36:])
    assert len(left_label) == 1 and len(right_label) == 1 and left_label != right_label
    texture = ts.pencil_texture(np.random.default_rng(1), 64)
    angles = np.zeros(int(labels.max()) + 1)
    angles[right_label] = 90.0
    mapped = ts.segment_texture(labels, texture, angles)
    np.testing.assert_array_equal(mapped[:, :28], texture[:, :28])
    np.testing.assert_array_equal(mapped[:, 36:], ts.rotate_texture(texture, 90.0)[:, 36:])
    # pencil strokes run along x: the left half varies down columns, the turned right half along rows
    left, right = mapped[:, :28].astype(float), mapped[:, 36:].astype(float)
    assert np.abs(np.diff(left, axis=1)).mean() < np.abs(np.diff(left, axis=0)).mean()
    assert np.abs(np.diff(right, axis=0)).mean() < np.abs(np.diff(right, axis=1)).mean()


@pytest.mark.parametrize("kind", ts.TEXTURES)
def test_textures_are_deterministic_gray_and_not_flat(kind: str) -> None:
    a, b = (ts.make_texture(np.random.default_rng(3), kind, 48) for _ in range(2))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (48, 48) and a.dtype == np.uint8 and a.std() > 10


def test_hand_drawing_is_eq2_of_the_equalised_pencil_drawing_with_per_segment_textures() -> None:
    image = two_halves(48)
    out = ts.hand_drawing(image, np.random.default_rng(5), "crayon")
    rng = np.random.default_rng(5)
    labels = ts.mean_shift_segments(image)
    texture = ts.segment_texture(labels, ts.crayon_texture(rng, 48), rng.uniform(0, 360, int(labels.max()) + 1))
    np.testing.assert_array_equal(out, ts.apply_gray(image, ts.pencil_drawing(image, texture)))


# ---------------------------------------------------------------- cel shading


def test_the_ramp_has_three_flat_levels() -> None:
    np.testing.assert_array_equal(ts.ramp(np.array([0.0, 0.3, 0.34, 0.6, 0.67, 1.0])), np.float32([0.55, 0.55, 0.8, 0.8, 1.0, 1.0]))
    normals = np.dstack([np.zeros((1, 3)), np.zeros((1, 3)), np.ones((1, 3))])
    np.testing.assert_allclose(ts.half_lambert(normals, np.array([0, 0, 2.0])), 1.0)
    np.testing.assert_allclose(ts.half_lambert(normals, np.array([1.0, 0, 0])), 0.5)


def test_cel_shading_gives_each_segment_exactly_three_tones_of_its_colour() -> None:
    labels = np.zeros((64, 64), np.uint8)
    cv2.circle(labels, (22, 32), 18, 1, -1)
    cv2.circle(labels, (50, 20), 10, 2, -1)
    colours = np.float32([[255, 255, 255], [200, 100, 50], [60, 180, 90]])
    shaded = ts.cel_shade(labels, colours, np.array([-1.0, -1.0, 0.8]), ambient=0.15)
    for k in (1, 2):
        factors = np.unique(np.round(shaded[labels == k] / colours[k], 5), axis=0)
        assert len(factors) == 3
        np.testing.assert_allclose(factors[:, 0], 0.15 + 0.85 * np.float32(ts.RAMP_LEVELS), rtol=1e-5)
    # lit from the upper left: the segment's upper-left rim is lighter than its lower-right rim
    assert shaded[20, 12, 0] > shaded[44, 32, 0]


def test_sobel_contours_lie_on_edges_and_nowhere_else() -> None:
    contours = ts.sobel_contours(two_halves(32, (230, 200, 60), (40, 40, 120)).astype(np.float32))
    assert contours[:, 15:17].all()
    assert not contours[:, :14].any() and not contours[:, 18:].any()
    labels = np.zeros((48, 48), np.uint8)
    cv2.circle(labels, (24, 24), 14, 1, -1)
    out = ts.cel_render(np.full((48, 48, 3), 240, np.uint8), labels, np.float32([[0, 0, 0], [230, 80, 80]]), np.array([0.0, 0.0, 1.0]))
    dark = np.all(out == (25, 20, 30), axis=2)
    border = cv2.morphologyEx(labels, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)).astype(bool)
    assert dark[border].mean() > 0.9 and not dark[cv2.erode(labels, np.ones((9, 9), np.uint8)).astype(bool) & ~border].all()


# ---------------------------------------------------------------- degradations


def test_jpeg_is_a_round_trip_at_the_given_quality() -> None:
    image = cv2.resize(two_halves(16), (64, 64), interpolation=cv2.INTER_NEAREST)
    image = degrade.add_noise(image, np.random.default_rng(0), 20)
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 15])
    np.testing.assert_array_equal(degrade.jpeg(image, 15), cv2.cvtColor(cv2.imdecode(encoded, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB))
    error = {q: np.abs(degrade.jpeg(image, q).astype(int) - image).mean() for q in (10, 90)}
    assert error[10] > error[90] > 0


def test_blur_is_a_gaussian_of_that_sigma_and_downscale_loses_detail_at_the_same_size() -> None:
    step = two_halves(32)
    blurred = degrade.blur(step, 2.0)
    np.testing.assert_array_equal(blurred, cv2.GaussianBlur(step, (0, 0), 2.0, borderType=cv2.BORDER_REFLECT_101))
    assert 40 < blurred[5, 16, 0] < 200 and blurred[5, 0, 0] == 200
    checker = (np.indices((32, 32)).sum(0) % 2 * 255).astype(np.uint8)[..., None].repeat(3, 2)
    small = degrade.downscale(checker, 0.5)
    assert small.shape == checker.shape and np.abs(small.astype(int) - 128).max() <= 1


def test_noise_has_the_given_spread() -> None:
    noisy = degrade.add_noise(np.full((64, 64, 3), 128, np.uint8), np.random.default_rng(0), 10.0)
    assert abs(noisy.astype(float).std() - 10.0) < 0.5 and abs(noisy.mean() - 128) < 0.5


# ---------------------------------------------------------------- the nuisances block


def toonnet_nuisances(tmp_path: Path, **changes: object) -> Path:
    document = yaml.safe_load(spec_path("toonnet").read_text())
    document["dataset"]["synthetic"]["nuisances"].update(changes)
    path = tmp_path / "toonnet.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"lookalike": 1.5}, "dataset.synthetic.nuisances.lookalike"),
        ({"designs": 5}, "dataset.synthetic.nuisances.designs"),
        ({"styles": {"flat": 0}}, "dataset.synthetic.nuisances.styles"),
        ({"degradations": {"jpeg_quality": 0}}, "dataset.synthetic.nuisances.degradations.jpeg_quality"),
        ({"sparkles": 0.1}, "dataset.synthetic.nuisances.sparkles"),
    ],
)
def test_a_bad_nuisance_is_rejected_with_the_file_and_field_path(tmp_path: Path, changes: dict, field: str) -> None:
    path = toonnet_nuisances(tmp_path, **changes)
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert caught.value.field == field and str(path) in str(caught.value)


def test_the_nuisances_are_part_of_the_protocol_hash(tmp_path: Path) -> None:
    bundled = load_spec("toonnet")
    assert bundled.dataset.synthetic.params.nuisances.lookalike == 0.6
    assert load_spec(toonnet_nuisances(tmp_path)).spec_hash() == bundled.spec_hash()
    assert load_spec(toonnet_nuisances(tmp_path, lookalike=0.5)).spec_hash() != bundled.spec_hash()


def test_with_every_nuisance_off_an_image_is_the_plain_one_and_with_them_on_it_is_not() -> None:
    plain = render(item_rng(0, "toon_objects", 7), "cat", 64)
    off = render(item_rng(0, "toon_objects", 7), "cat", 64, nz.ToonNuisances())
    np.testing.assert_array_equal(plain, off)
    busy = nz.ToonNuisances(styles=nz.StyleWeights(flat=0, pencil=1), degradations=degrade.Degradations(jpeg=1.0))
    assert not np.array_equal(plain, render(item_rng(0, "toon_objects", 7), "cat", 64, busy))


def test_look_alikes_share_one_body_plan() -> None:
    shapes = {name: nz.sitting_animal(np.random.default_rng(0), name) for name in nz.LOOKALIKES}
    body, head = sorted((p for p in shapes["cat"] if p.closed), key=lambda p: nz._area(p.points))[-2:]
    for parts in shapes.values():
        for shared in (body, head):
            centred = shared.points - shared.points.mean(0)  # the head's height varies per drawing, its shape does not
            assert any(p.points.shape == centred.shape and np.allclose(p.points - p.points.mean(0), centred) for p in parts)


def test_white_gaps_whiten_the_requested_share_inside_only() -> None:
    image = np.full((64, 64, 3), 90, np.uint8)
    inside = np.zeros((64, 64), bool)
    inside[10:54, 10:54] = True
    out = nz.white_gaps(image, inside, np.random.default_rng(0), 0.2)
    white = np.all(out == nz.PAPER, axis=2)
    assert not white[~inside].any()
    assert 0.12 < white[inside].mean() < 0.2
