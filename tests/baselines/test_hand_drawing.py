"""The hand-drawing stylization filter obeys I' = I + G − G∘I/255 with per-segment rotated pencil textures."""

from __future__ import annotations

import numpy as np

from datasets.augment import hand_drawing, mean_shift_segments, pencil_strokes, pencil_texture, screen_blend, segment_textures


def two_colour_image() -> np.ndarray:
    image = np.zeros((48, 64, 3), np.uint8)
    image[:, :32] = (200, 40, 40)
    image[:, 32:] = (30, 60, 190)
    return image


def test_screen_blend_matches_the_formula_on_constructed_values() -> None:
    image = np.array([[[100, 0, 255], [17, 128, 240]]], dtype=np.uint8)
    texture = np.array([[51.0, 200.0]])
    # 100 + 51 - 51*100/255 = 131; 0 + 51 = 51; 255 + 51 - 51 = 255; 17 + 200 - 200*17/255 = 203.67 -> 204 ...
    expected = np.array([[[131, 51, 255], [204, 228, 252]]], dtype=np.uint8)
    assert np.array_equal(screen_blend(image, texture), expected)


def test_black_texture_keeps_the_image_and_white_texture_gives_paper_white() -> None:
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (8, 9, 3), dtype=np.uint8)
    assert np.array_equal(screen_blend(image, np.zeros((8, 9))), image)
    assert np.array_equal(screen_blend(image, np.full((8, 9), 255.0)), np.full_like(image, 255))


def test_hand_drawing_is_the_screen_blend_of_the_segment_textures() -> None:
    image = two_colour_image()
    segments = mean_shift_segments(image)
    texture = segment_textures(segments, np.random.default_rng(7)).astype(np.float64)[..., None]
    values = image.astype(np.float64)
    expected = np.clip(np.rint(values + texture - texture * values / 255.0), 0, 255).astype(np.uint8)
    assert np.array_equal(hand_drawing(image, np.random.default_rng(7)), expected)


def test_the_two_flat_halves_are_two_segments() -> None:
    segments = mean_shift_segments(two_colour_image())
    assert len(np.unique(segments[:, :24])) == 1 and len(np.unique(segments[:, 40:])) == 1
    assert segments[0, 0] != segments[0, -1]


def test_pencil_strokes_follow_the_rotation_angle() -> None:
    strokes = pencil_strokes(100, np.random.default_rng(0))
    flat = pencil_texture(strokes, 64, 64, 0.0)
    upright = pencil_texture(strokes, 64, 64, 90.0)
    along_rows = lambda t: np.abs(np.diff(t, axis=1)).mean()  # noqa: E731
    along_cols = lambda t: np.abs(np.diff(t, axis=0)).mean()  # noqa: E731
    assert along_rows(flat) < 0.5 * along_cols(flat)
    assert along_cols(upright) < 0.5 * along_rows(upright)


def test_hand_drawing_keeps_shape_and_is_deterministic_for_a_seed() -> None:
    image = np.random.default_rng(1).integers(0, 256, (40, 52, 3), dtype=np.uint8)
    first = hand_drawing(image, np.random.default_rng(11))
    assert first.shape == image.shape and first.dtype == np.uint8
    assert np.array_equal(first, hand_drawing(image, np.random.default_rng(11)))
    assert (first.astype(int) >= image.astype(int)).all()  # the screen blend only ever lightens
