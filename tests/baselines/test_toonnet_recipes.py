"""The ToonNet paper's recipes against their definitions: IUS (§4.1), FIN (§4.2), NPN (§4.3), the §5 schedule."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from baselines.common.nets import NarrowResNet
from baselines.common.toonnet_nets import PRELOGITS, NPNHead, SmallInception, ToonNetMember
from baselines.common.toonnet_training import MemberConfig, StepSchedule, fit_step, member_tensors, paper_schedule
from baselines.common.training import to_tensor
from baselines.toonnet_ius.inputs import ToonInputs, channel_histograms, to_colour_space
from baselines.toonnet_ius.unify import mean_shift, seed_pixels, unify_style

WHITE, OUTLINE = (255, 255, 255), (30, 30, 30)
BASE, SEED = (200, 30, 30), (230, 10, 10)  # one red region; SEED is its most saturated pixel
NEAR_HUE = (220, 60, 30)  # an orange-red about 5 OpenCV hue steps from the seed's
LIGHT = (245, 230, 230)  # saturation 15, value 245: a light pixel
DIAGONAL = (170, 45, 45)  # red, but reachable only diagonally
GREEN = (40, 180, 40)


def hand_painted_region() -> np.ndarray:
    """40×40: white paper, a 2-px dark outline around a red region with a seed, light gaps, an orange-red
    patch, a green patch, a large white hole, and one red pixel boxed in by outline on its four sides."""
    image = np.full((40, 40, 3), WHITE, np.uint8)
    image[5:35, 5:35] = OUTLINE
    image[7:33, 7:33] = BASE
    image[10, 10] = SEED
    image[20:22, 20:22] = WHITE  # a 4-px gap: small, so not background
    image[25, 12] = LIGHT
    image[15:17, 25:27] = NEAR_HUE
    image[9:11, 27:29] = GREEN
    image[24:32, 22:30] = WHITE  # 64 px = 4 % of the image: background, never filled
    image[12, 15] = DIAGONAL
    for y, x in ((11, 15), (13, 15), (12, 14), (12, 16)):
        image[y, x] = OUTLINE
    return image


def test_hand_made_image_is_a_fixed_point_of_the_mean_shift() -> None:
    """Precondition of the IUS tests below: the filter leaves these flat, well-separated colours alone."""
    image = hand_painted_region()
    assert np.array_equal(mean_shift(image), image)


def test_ius_fills_the_region_with_the_seed_colour_including_light_gaps_and_close_hues() -> None:
    unified = unify_style(hand_painted_region())
    for y, x in ((8, 8), (30, 8), (20, 20), (21, 21), (25, 12), (15, 25), (16, 26), (10, 10)):
        assert tuple(unified[y, x]) == SEED, (y, x)


def test_ius_fill_is_eight_connected_a_diagonal_neighbour_joins() -> None:
    image = hand_painted_region()
    neighbours = [tuple(image[y, x]) for y, x in ((11, 15), (13, 15), (12, 14), (12, 16))]
    assert neighbours == [OUTLINE] * 4  # a 4-connected fill could not reach (12, 15)
    assert tuple(unify_style(image)[12, 15]) == SEED


def test_ius_leaves_background_outline_and_other_hues_untouched() -> None:
    image = hand_painted_region()
    unified = unify_style(image)
    background = np.all(image == WHITE, axis=2)
    background[20:22, 20:22] = False  # the small gap is not background
    outline = np.all(image == OUTLINE, axis=2)
    assert np.array_equal(unified[background], image[background])
    assert np.array_equal(unified[outline], image[outline])
    assert (unified[24:32, 22:30] == 255).all()
    assert (unified[9:11, 27:29] == GREEN).all()


def test_seeds_are_the_most_saturated_eligible_pixel_of_each_block_most_saturated_first() -> None:
    rng = np.random.default_rng(0)
    saturation = rng.integers(0, 256, (10, 13)).astype(np.uint8)
    eligible = rng.random((10, 13)) > 0.6
    expected = []
    for top in range(0, 12, 4):  # blocks of ceil(10/3) × ceil(13/3) = 4 × 5 pixels
        for left in range(0, 15, 5):
            block = np.where(eligible, saturation.astype(int), -1)[top : top + 4, left : left + 5]
            if block.max() >= 0:
                y, x = np.unravel_index(block.argmax(), block.shape)
                expected.append((block.max(), top + y, left + x))
    expected.sort(key=lambda seed: -seed[0])
    assert seed_pixels(saturation, eligible, regions=3) == [(y, x) for _, y, x in expected]


def test_fin_histogram_is_per_channel_merged_into_n_bins_and_normalised_over_all_channels() -> None:
    image = np.zeros((4, 5, 3), np.uint8)
    image[..., 0], image[..., 1], image[..., 2] = 255, 0, 128
    image[0, 0] = (63, 64, 191)
    histogram = channel_histograms(image, bins=4)
    expected = np.zeros((3, 4))
    expected[0, [3, 0]] = [19, 1]
    expected[1, [0, 1]] = [19, 1]
    expected[2, 2] = 20
    assert histogram.shape == (3, 4) and histogram.dtype == np.float32
    assert np.allclose(histogram, expected / 60)
    rng_image = np.random.default_rng(1).integers(0, 256, (9, 7, 3), dtype=np.uint8)
    merged = [np.bincount(rng_image[..., c].ravel() // 16, minlength=16) for c in range(3)]
    assert np.allclose(channel_histograms(rng_image, bins=16), np.stack(merged) / (3 * 63))


def test_fin_inserts_the_convolved_histogram_before_an_extra_fully_connected_layer() -> None:
    torch.manual_seed(0)
    bins, classes = 8, 5
    member = ToonNetMember("resnet", classes, fin_bins=bins).eval()
    images = torch.randn(2, 3, 48, 48)
    histograms = torch.rand(2, 3, bins)
    histograms /= histograms.sum(dim=(1, 2), keepdim=True)
    conv, linear = member.fin.to_one_channel, member.fin.extra_fc[0]
    assert (conv.in_channels, conv.out_channels, conv.kernel_size) == (3, 1, (1,))
    assert (linear.in_features, linear.out_features) == (member.core.feature_dim + bins, PRELOGITS)
    with torch.no_grad():
        colour = np.einsum("c,ncb->nb", conv.weight[0, :, 0].numpy(), histograms.numpy() * 3 * bins) + conv.bias.item()
        joined = np.concatenate([member.core.features(images).numpy(), colour], axis=1)
        expected = np.maximum(joined @ linear.weight.numpy().T + linear.bias.numpy(), 0)
        assert np.allclose(member.prelogits(images, histograms).numpy(), expected, atol=1e-5)
        assert member(images, histograms).shape == (2, classes)
        other = histograms.flip(2)
        assert not torch.allclose(member(images, histograms), member(images, other))
        plain = ToonNetMember("resnet", classes).eval()
        assert plain.fin is None and torch.equal(plain(images, histograms), plain(images, other))


def test_colour_spaces_follow_their_definitions() -> None:
    images = np.array([[[[255, 0, 0], [0, 0, 255]], [[200, 100, 50], [255, 255, 255]]]], np.uint8)
    assert to_colour_space(images, "rgb") is images
    hsv = to_colour_space(images, "hsv")
    assert tuple(hsv[0, 0, 0]) == (0, 255, 255)  # red: hue 0°
    assert tuple(hsv[0, 0, 1]) == (171, 255, 255)  # blue: 240° · 256/360 = 170.7, rounded
    assert tuple(hsv[0, 1, 1]) == (0, 0, 255)
    gray = to_colour_space(images, "gray")
    assert tuple(gray[0, 1, 0]) == (124, 124, 124)  # 0.299·200 + 0.587·100 + 0.114·50
    with pytest.raises(ValueError, match="colour space"):
        to_colour_space(images, "lab")


def test_a_member_reads_its_own_colour_space() -> None:
    images = np.random.default_rng(2).integers(0, 256, (3, 6, 6, 3), dtype=np.uint8)
    inputs = ToonInputs(images, np.full((3, 3, 4), 1 / 12, np.float32))
    tensor, histograms = member_tensors(MemberConfig(space="hsv"), inputs)
    hsv = np.stack([cv2.cvtColor(image, cv2.COLOR_RGB2HSV_FULL) for image in images])
    assert torch.equal(tensor, to_tensor(hsv)) and histograms.shape == (3, 3, 4)


def test_npn_three_members_differ_in_core_colour_space_and_fin() -> None:
    from baselines.toonnet_fin.method import CONFIG as FIN
    from baselines.toonnet_ius.method import CONFIG as IUS
    from baselines.toonnet_npn.method import NEW_MEMBERS, REUSED_MEMBERS

    assert REUSED_MEMBERS == ("toonnet-ius", "toonnet-fin")
    configs = [IUS, FIN, *NEW_MEMBERS]
    assert len(configs) == 3 and all(config.ius for config in configs)
    assert len({config.arch for config in configs}) == 2
    assert len({config.space for config in configs}) == 2
    assert {config.fin for config in configs} == {True, False}
    cores = {type(config.build(12).core) for config in configs}
    assert cores == {NarrowResNet, SmallInception}


@pytest.mark.parametrize("m", [1, 2, 3, 4])
def test_npn_head_stacks_m_by_d_and_mixes_with_an_m_by_1_convolution(m: int) -> None:
    torch.manual_seed(m)
    dims, width, classes = [128, 160, 96, 128][:m], 16, 12
    head = NPNHead(dims, classes, width=width, mix_channels=3).eval()
    features = torch.randn(5, sum(dims))
    stacked = head.stacked(features)
    assert stacked.shape == (5, m, width)
    assert head.mix.kernel_size == (m, 1)
    parts = np.split(features.numpy(), np.cumsum(dims)[:-1], axis=1)
    maps = [part @ mapping.weight.detach().numpy().T + mapping.bias.detach().numpy() for part, mapping in zip(parts, head.maps)]
    assert np.allclose(stacked.detach().numpy(), np.stack(maps, axis=1), atol=1e-5)
    weight, bias = head.mix.weight.detach().numpy()[:, 0, :, 0], head.mix.bias.detach().numpy()  # [channels, m]
    mixed = np.maximum(np.einsum("ci,nid->ncd", weight, np.stack(maps, axis=1)) + bias[None, :, None], 0)
    logits = mixed.reshape(5, -1) @ head.classifier[1].weight.detach().numpy().T + head.classifier[1].bias.detach().numpy()
    assert np.allclose(head(features).detach().numpy(), logits, atol=1e-4)


def test_the_schedule_divides_the_learning_rate_by_ten_every_step(monkeypatch: pytest.MonkeyPatch) -> None:
    rates: list[float] = []
    original = torch.optim.AdamW.step

    def recording_step(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        rates.append(self.param_groups[0]["lr"])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.AdamW, "step", recording_step)
    model = torch.nn.Linear(4, 3)
    inputs, labels = torch.randn(8, 4), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    fit_step(model, inputs, None, labels, StepSchedule(epochs=5, step_epochs=2, batch_size=8, augment=False), seed=0, desc="test")
    assert np.allclose(rates, [2e-3, 2e-3, 2e-4, 2e-4, 2e-5])
    default = paper_schedule("default")
    assert (default.lr, default.step_epochs, default.gamma) == (2e-3, 5, 0.1)


def test_ius_flattens_a_shaded_region_and_leaves_the_paper_alone() -> None:
    image = np.full((64, 64, 3), 235, np.uint8)
    cv2.circle(image, (32, 32), 20, (210, 40, 40), -1)
    image[24:40, 24:40, 0] -= np.linspace(0, 30, 16).astype(np.uint8)[None, :]
    cv2.circle(image, (32, 32), 20, (10, 10, 10), 2)
    unified = unify_style(image)
    assert len(np.unique(unified[22:42, 22:42].reshape(-1, 3), axis=0)) == 1
    assert (unified[:4, :4] == 235).all()
