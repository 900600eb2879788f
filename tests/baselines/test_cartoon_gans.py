"""CartoonGAN and the semantic-aware cartoonizer against their definitions, and their training on the tiny profile."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch
from torch import nn

from baselines.cartoon_cartoongan.edges import edge_region, smooth_edges
from baselines.cartoon_cartoongan.networks import CartoonGanDiscriminator, CartoonGanGenerator, CartoonGanShape
from baselines.cartoon_semantic.recipe import ALPHA, bai_shift_weights, channel_mix, semantic_recipe
from baselines.cartoon_semantic.segmentation import CLASSES, SegmentationUNet, photometric_jitter, semantic_loss
from baselines.common.contract import read_rgb
from baselines.common.weights import load_checkpoint

NEW = ["cartoon-cartoongan", "cartoon-semantic"]


def two_colour_square() -> np.ndarray:
    """A red square on a blue field, 40×40: one closed edge, flat elsewhere."""
    image = np.zeros((40, 40, 3), np.uint8)
    image[:] = (20, 40, 200)
    image[12:28, 12:28] = (230, 30, 30)
    return image


def test_edge_smoothing_blurs_only_the_dilated_canny_edges() -> None:
    image = two_colour_square()
    smoothed = smooth_edges(image)
    region = cv2.dilate(cv2.Canny(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), 100, 200), np.ones((5, 5), np.uint8)) > 0
    np.testing.assert_array_equal(edge_region(image), region)
    assert region[12, 20] and region[20, 12] and not region[20, 20] and not region[2, 2]
    blurred = cv2.GaussianBlur(image, (5, 5), 0)
    np.testing.assert_array_equal(smoothed[region], blurred[region])
    np.testing.assert_array_equal(smoothed[~region], image[~region])
    assert np.abs(smoothed.astype(int) - image.astype(int))[region].max() > 50  # the edge itself got soft


def test_a_flat_image_has_no_edge_to_smooth() -> None:
    flat = np.full((24, 24, 3), 128, np.uint8)
    np.testing.assert_array_equal(smooth_edges(flat), flat)


@pytest.mark.parametrize("side", [(64, 64), (37, 50)])
def test_the_generator_keeps_the_input_size_and_the_range(side: tuple[int, int]) -> None:
    torch.manual_seed(0)
    generator = CartoonGanGenerator(CartoonGanShape(width=8, blocks=8)).eval()
    out = generator(torch.rand(2, 3, *side) * 2 - 1)
    assert out.shape == (2, 3, *side) and out.abs().max() <= 1.0
    residual = [module for module in generator.modules() if type(module).__name__ == "ResidualBlock"]
    assert len(residual) == 8
    strided = [m for m in generator.modules() if isinstance(m, nn.Conv2d) and m.stride == (2, 2)]
    transposed = [m for m in generator.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [m.out_channels for m in strided] == [16, 32] and [m.out_channels for m in transposed] == [16, 8]


def test_the_discriminator_gives_one_logit_per_quarter_resolution_patch() -> None:
    disc = CartoonGanDiscriminator(width=8)
    assert disc(torch.zeros(3, 3, 64, 48)).shape == (3, 1, 16, 12)


def test_bai_colour_shift_weights_follow_eq6() -> None:
    weights = bai_shift_weights(4000, torch.Generator().manual_seed(0))
    luma = torch.tensor([0.299, 0.587, 0.114])
    beta = (weights - ALPHA * luma) / (1 - ALPHA)
    assert torch.all(beta.abs() <= 1 + 1e-5) and torch.all(beta.abs().amax(dim=0) > 0.99)
    assert beta.mean(dim=0).abs().max() < 0.05
    images = torch.rand(2, 3, 5, 6)
    chosen = torch.tensor([[0.5, -0.2, 0.1], [0.3, 0.3, 0.3]])
    r, g, b = images[0]
    torch.testing.assert_close(channel_mix(images, chosen)[0, 0], 0.5 * r - 0.2 * g + 0.1 * b)


def test_semantic_loss_is_the_mean_l1_of_class_probabilities() -> None:
    torch.manual_seed(0)
    segmenter = SegmentationUNet(width=4).eval()
    photo, fake = torch.rand(2, 3, 12, 10) * 2 - 1, torch.rand(2, 3, 12, 10) * 2 - 1
    with torch.no_grad():
        p, q = segmenter(photo).softmax(1), segmenter(fake).softmax(1)
    assert p.shape == (2, CLASSES, 12, 10)
    expected = sum(abs(float(a) - float(b)) for a, b in zip(p.flatten(), q.flatten())) / p.numel()
    assert semantic_loss(segmenter, photo, fake).item() == pytest.approx(expected, rel=1e-5)
    assert semantic_loss(segmenter, photo, photo).item() == 0.0
    fake.requires_grad_(True)
    semantic_loss(segmenter, photo, fake).backward()
    assert fake.grad is not None and fake.grad.abs().sum() > 0


def test_the_semantic_recipe_drops_structure_and_weights_the_semantic_term() -> None:
    recipe = semantic_recipe(lambda photo, fake: (fake - photo).abs().mean())
    assert recipe.weights.structure == 0.0 and recipe.weights.content > 0
    photo = torch.zeros(1, 3, 4, 4)
    assert recipe.extra(photo, photo + 0.5).item() == pytest.approx(0.5 * 10.0)


def test_photometric_jitter_is_a_per_channel_affine_map() -> None:
    images = torch.linspace(-0.5, 0.5, 2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    jittered = photometric_jitter(images, torch.Generator().manual_seed(1))
    for n in range(2):
        for c in range(3):
            x, y = images[n, c].flatten(), jittered[n, c].flatten()
            slope = (y[-1] - y[0]) / (x[-1] - x[0])
            torch.testing.assert_close(y, slope * x + (y[0] - slope * x[0]))
            assert 0.7 - 1e-5 <= slope <= 1.3 + 1e-5


@pytest.mark.slow
@pytest.mark.parametrize("name", NEW)
def test_the_trained_baseline_writes_one_same_size_png_per_input(name: str, predicted) -> None:
    _, output_dir = predicted(name)
    manifest = json.loads((output_dir.parent / "input" / "manifest.json").read_text())
    assert sorted(path.stem for path in (output_dir / "images").glob("*.png")) == sorted(item["id"] for item in manifest["items"])
    for item in manifest["items"]:
        photo = read_rgb(output_dir.parent / "input" / item["path"])
        cartoon = read_rgb(output_dir / "images" / f"{item['id']}.png")
        assert cartoon.shape == photo.shape and cartoon.dtype == np.uint8


@pytest.mark.slow
@pytest.mark.parametrize("name", NEW)
def test_training_twice_from_the_seed_gives_the_same_checkpoint(name: str, trained, tmp_path) -> None:
    from baselines.checkpoints import ensure_checkpoint
    from baselines.registry import get_baseline

    built, first = trained(name)
    second = ensure_checkpoint(get_baseline(name), built, tmp_path)
    assert second != first
    one, two = load_checkpoint(first), load_checkpoint(second)
    assert one["losses"] == two["losses"] and one["state"].keys() == two["state"].keys()
    assert all(torch.equal(one["state"][key], two["state"][key]) for key in one["state"])
