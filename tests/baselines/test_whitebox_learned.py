"""The learned White-box cartoonizer against its definitions (Wang & Yu, CVPR 2020, §3) and the translation contract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from baselines.cartoon_whitebox.networks import PatchDiscriminator
from baselines.cartoon_whitebox.representations import (
    LUMA_WEIGHTS,
    colour_segments,
    colour_shift_weights,
    guided_filter,
    random_colour_shift,
    structure_image,
    surface_representation,
    total_variation,
)
from baselines.cartoon_whitebox_classical.whitebox import guided_filter as classical_guided_filter
from baselines.common import vgg_features
from baselines.common.contract import read_rgb
from baselines.common.weights import load_checkpoint


def hand_image(height: int = 16, width: int = 18) -> np.ndarray:
    """A step edge, a ramp and a checker patch per channel, float32 in [-1, 1]."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    step = np.where(xs < width // 2, -0.8, 0.6)
    ramp = ys / height - 0.5
    checker = np.where((ys + xs) % 2 == 0, 0.3, -0.3) * (ys > height // 2)
    return np.stack([step, ramp, step * 0.5 + checker], axis=0).astype(np.float32)


def test_guided_filter_matches_the_classical_filter_on_a_hand_made_image() -> None:
    image = hand_image()
    source = np.flip(image, axis=2).copy()
    ours = guided_filter(torch.from_numpy(image)[None], torch.from_numpy(source)[None], 2, 0.01)[0].numpy()
    for channel in range(3):
        expected = classical_guided_filter(image[channel], source[channel], 2, 0.01)
        np.testing.assert_allclose(ours[channel], expected, atol=1e-5)


def test_the_surface_representation_is_the_self_guided_filter_with_r5_eps02() -> None:
    image = hand_image()
    ours = surface_representation(torch.from_numpy(image)[None])[0].numpy()
    expected = np.stack([classical_guided_filter(image[c], image[c], 5, 0.2) for c in range(3)])
    np.testing.assert_allclose(ours, expected, atol=1e-5)
    assert np.abs(ours - image).max() > 0.05


def test_adaptive_colouring_takes_mean_average_or_median_by_the_regions_spread() -> None:
    # three regions of four grey pixels: σ ≈ 1.7 (< 20), ≈ 27.7 (20..40), ≈ 83.2 (> 40)
    values = np.array([[10, 0, 0], [10, 0, 0], [10, 50, 30], [14, 60, 200]], dtype=np.float64)
    image = np.repeat(values[..., None], 3, axis=2)
    segments = np.tile(np.arange(3), (4, 1))
    painted = colour_segments(image, segments)
    np.testing.assert_allclose(painted[:, 0], 11.0)  # mean
    np.testing.assert_allclose(painted[:, 1], 0.5 * 27.5 + 0.5 * 25.0)  # (mean + median) / 2
    np.testing.assert_allclose(painted[:, 2], 15.0)  # median


def test_structure_of_two_flat_regions_keeps_each_regions_colour() -> None:
    image = np.zeros((24, 24, 3), dtype=np.float64)
    image[:, :12] = (200.0, 40.0, 40.0)
    image[:, 12:] = (30.0, 90.0, 220.0)
    noisy = image + np.random.default_rng(0).normal(0.0, 3.0, image.shape)
    painted = structure_image(noisy, min_size=100)
    colours = np.unique(painted.reshape(-1, 3), axis=0)
    assert len(colours) == 2
    for colour in colours:
        region = np.all(painted == colour, axis=-1)
        np.testing.assert_allclose(colour, noisy[region].mean(axis=0))  # σ ≈ 3 < γ1: the mean
        np.testing.assert_allclose(colour, image[region].mean(axis=0), atol=2.0)
        assert region[:, :11].all() != region[:, 13:].all()


def test_random_colour_shift_is_a_convex_channel_combination_within_the_ranges() -> None:
    weights = colour_shift_weights(2000, torch.Generator().manual_seed(0))
    centre = torch.tensor(LUMA_WEIGHTS)
    assert torch.all((weights - centre).abs() <= 0.1 + 1e-6)
    assert torch.all((weights - centre).abs().amax(dim=0) > 0.09)
    images = torch.from_numpy(hand_image())[None].repeat(2, 1, 1, 1)
    chosen = torch.tensor([[0.3, 0.6, 0.1], [0.2, 0.5, 0.2]])
    gray = random_colour_shift(images, chosen)
    assert gray.shape == (2, 1, 16, 18)
    r, g, b = images[1]
    torch.testing.assert_close(gray[1, 0], (0.2 * r + 0.5 * g + 0.2 * b) / 0.9)
    assert torch.all(gray[:, 0] <= images.amax(dim=1) + 1e-6) and torch.all(gray[:, 0] >= images.amin(dim=1) - 1e-6)


@pytest.mark.parametrize("channels", [3, 1])
def test_discriminators_are_spectrally_normalised_patchgans(channels: int) -> None:
    disc = PatchDiscriminator(channels, width=8)
    convs = [module for module in disc.modules() if isinstance(module, nn.Conv2d)]
    assert len(convs) == 7 and all(parametrize.is_parametrized(conv, "weight") for conv in convs)
    assert disc(torch.zeros(2, channels, 64, 48)).shape == (2, 1, 8, 6)


def test_total_variation_is_the_formula_on_a_small_tensor() -> None:
    images = torch.tensor([[[[1.0, 2.0, 4.0], [0.0, 3.0, 1.0]]], [[[2.0, 2.0, 2.0], [5.0, 1.0, 0.0]]]])
    vertical = [(0 - 1) ** 2, (3 - 2) ** 2, (1 - 4) ** 2, (5 - 2) ** 2, (1 - 2) ** 2, (0 - 2) ** 2]
    horizontal = [1, 4, 9, 4, 0, 0, 16, 1]
    expected = (sum(vertical) / 6 + sum(horizontal) / 8) / (1 * 2 * 3)
    assert total_variation(images).item() == pytest.approx(expected)


def test_the_vgg_loader_reads_a_torchvision_state_dict_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    names = vgg_features.conv_parameter_names()
    assert names[0] == "features.0.weight" and names[-2:] == ["features.25.weight", "features.25.bias"]
    torch.manual_seed(1)
    layers = vgg_features.conv4_4_layers()
    state = {f"features.{key}": value for key, value in layers.state_dict().items()}
    assert state["features.0.weight"].shape == (64, 3, 3, 3) and state["features.25.weight"].shape == (512, 512, 3, 3)
    path = tmp_path / "vgg19.pth"
    torch.save({**state, "classifier.6.bias": torch.zeros(1000)}, path)
    monkeypatch.setenv(vgg_features.WEIGHTS_ENV, str(path))
    features = vgg_features.load_vgg_features()
    assert features.source.pretrained and "ImageNet" in features.source.describe()
    torch.testing.assert_close(features.features[25].weight, state["features.25.weight"])
    assert features(torch.zeros(1, 3, 32, 32)).shape == (1, 512, 4, 4)


def test_without_weights_the_vgg_is_seeded_random_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(vgg_features.WEIGHTS_ENV, raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    first, second = vgg_features.load_vgg_features(4, seed=3), vgg_features.load_vgg_features(4, seed=3)
    assert not first.source.pretrained and "no ImageNet weights" in first.source.describe()
    assert first.features[25].weight.shape == (128, 128, 3, 3)
    torch.testing.assert_close(first.features[25].weight, second.features[25].weight)


@pytest.mark.slow
def test_the_trained_baseline_writes_one_same_size_png_per_input(predicted) -> None:
    import json

    built, output_dir = predicted("cartoon-whitebox")
    manifest = json.loads((output_dir.parent / "input" / "manifest.json").read_text())
    written = sorted(path.stem for path in (output_dir / "images").glob("*.png"))
    assert written == sorted(item["id"] for item in manifest["items"])
    for item in manifest["items"]:
        photo = read_rgb(output_dir.parent / "input" / item["path"])
        cartoon = read_rgb(output_dir / "images" / f"{item['id']}.png")
        assert cartoon.shape == photo.shape and cartoon.dtype == np.uint8


@pytest.mark.slow
def test_training_twice_from_the_seed_gives_the_same_checkpoint(trained, tmp_path: Path) -> None:
    from baselines.checkpoints import ensure_checkpoint
    from baselines.registry import get_baseline

    built, first = trained("cartoon-whitebox")
    second = ensure_checkpoint(get_baseline("cartoon-whitebox"), built, tmp_path)
    assert second != first
    one, two = load_checkpoint(first), load_checkpoint(second)
    assert one["losses"] == two["losses"] and one["state"].keys() == two["state"].keys()
    assert all(torch.equal(one["state"][key], two["state"][key]) for key in one["state"])
