"""The ``style`` block of ``photo_crops``: the reference cartoons' colour cast and outline ink."""

from __future__ import annotations

import numpy as np

from datasets.generators._draw import Part, item_rng, rect
from datasets.generators.cartoon_style import NEUTRAL_OUTLINE, CartoonStyle, grade, grade_parts
from datasets.generators.photos import cartoon_scene
from datasets.spec import load_spec

SIZE = 128


def spec_style() -> CartoonStyle:
    return load_spec("cartoonization", "default").dataset.synthetic.params.style


def scenes(style: CartoonStyle, count: int = 6) -> list[np.ndarray]:
    return [cartoon_scene(item_rng(0, "style-test", index), SIZE, style) for index in range(count)]


def colour_pixels(image: np.ndarray, colour: tuple[int, int, int]) -> int:
    return int((image == np.asarray(colour, np.uint8)).all(axis=2).sum())


def test_the_neutral_style_leaves_colours_and_parts_unchanged() -> None:
    image = np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    parts = [Part(rect(0, 0, 1, 1), (12, 200, 90)), Part(rect(0, 0, 1, 1), (250, 3, 40))]
    assert np.array_equal(grade(image, CartoonStyle()), image)
    assert [part.colour for part in grade_parts(parts, CartoonStyle())] == [(12, 200, 90), (250, 3, 40)]


def test_the_cast_maps_each_colour_to_one_colour() -> None:
    flat = np.zeros((6, 6, 3), np.uint8)
    flat[:3] = (200, 120, 40)
    flat[3:] = (30, 160, 220)
    graded = grade(flat, spec_style())
    assert len(np.unique(graded[:3].reshape(-1, 3), axis=0)) == 1
    assert len(np.unique(graded[3:].reshape(-1, 3), axis=0)) == 1


def test_the_spec_gives_the_cartoons_its_cast_and_its_ink() -> None:
    style = spec_style()
    styled, plain = scenes(style), scenes(CartoonStyle())
    blue_share = [float(image[..., 2].mean() / image.mean()) for image in styled]
    plain_blue_share = [float(image[..., 2].mean() / image.mean()) for image in plain]
    assert np.mean(blue_share) > np.mean(plain_blue_share) + 0.1
    assert all(colour_pixels(image, style.outline_colour) > 0 for image in styled)
    assert all(colour_pixels(image, NEUTRAL_OUTLINE) == 0 for image in styled)


def test_the_style_draws_no_random_numbers() -> None:
    rng = item_rng(0, "style-test", 0)
    cartoon_scene(rng, SIZE, spec_style())
    after_styled = rng.random()
    rng = item_rng(0, "style-test", 0)
    cartoon_scene(rng, SIZE)
    assert rng.random() == after_styled
