"""The ToonNet paper's networks, CPU-sized: FIN insertion (§4.2, Fig. 7) and the NPN head (§4.3, Fig. 8).

A *member* is a core network (the layers before the pre-logits) with an
optional FIN insertion and a final fully connected layer. Two core families
stand in for the paper's ResNet and GoogLeNet Inception: the narrow ResNet of
``nets.py`` and a small GoogLeNet built from torchvision's ``Inception``
blocks. Both end in a pre-logits vector of ``PRELOGITS`` values.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.googlenet import BasicConv2d, Inception

from baselines.common.classify import BLOCKS, WIDTHS
from baselines.common.nets import NarrowResNet

PRELOGITS = WIDTHS[-1]
ARCHITECTURES = ("resnet", "inception")
NPN_WIDTH = PRELOGITS
NPN_MIX_CHANNELS = 8
DROPOUT = 0.2


class SmallInception(nn.Module):
    """GoogLeNet in miniature: a strided stem and max pooling (inputs shrink 4× before the first block, as
    GoogLeNet's stem shrinks them 8×), one Inception block, max pooling, two more blocks, global average pooling.

    Block widths (1×1, 3×3 reduce, 3×3, "5×5" reduce, "5×5", pool projection)
    follow GoogLeNet's proportions at a fraction of its channels; one epoch
    costs about what the narrow ResNet's does.
    """

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            BasicConv2d(3, 24, kernel_size=3, stride=2, padding=1),
            nn.MaxPool2d(3, stride=2, padding=1),
            Inception(24, 16, 12, 24, 4, 8, 8),
            nn.MaxPool2d(3, stride=2, padding=1),
            Inception(56, 32, 24, 48, 8, 24, 24),
            Inception(128, 32, 32, 48, 8, 24, 24),
        )
        self.feature_dim = 128

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return torch.flatten(F.adaptive_avg_pool2d(self.body(images), 1), 1)


def build_core(arch: str) -> nn.Module:
    """The layers before the pre-logits, with ``features(images)`` and ``feature_dim``."""
    if arch == "resnet":
        return NarrowResNet(0, WIDTHS, BLOCKS)
    if arch == "inception":
        return SmallInception()
    raise ValueError(f"architecture must be one of {ARCHITECTURES}, not {arch!r}")


class FINInsertion(nn.Module):
    """§4.2 / Fig. 7: the ``[3, bins]`` histogram is convolved across channels to one ``bins``-vector,
    joined to the core's pre-logits, and an additional fully connected layer makes the new pre-logits.
    """

    def __init__(self, core_dim: int, bins: int, out_dim: int = PRELOGITS) -> None:
        super().__init__()
        self.bins = bins
        self.to_one_channel = nn.Conv1d(3, 1, kernel_size=1)
        self.extra_fc = nn.Sequential(nn.Linear(core_dim + bins, out_dim), nn.ReLU(inplace=True))

    def forward(self, features: torch.Tensor, histograms: torch.Tensor) -> torch.Tensor:
        # The histogram sums to 1 over 3·bins cells; scaling by that count makes its cells average 1.
        colour = self.to_one_channel(histograms * (3 * self.bins)).flatten(1)
        return self.extra_fc(torch.cat([features, colour], dim=1))


class ToonNetMember(nn.Module):
    """Core → (FIN insertion) → pre-logits → dropout → final fully connected layer."""

    def __init__(self, arch: str, num_classes: int, fin_bins: int | None = None) -> None:
        super().__init__()
        self.core = build_core(arch)
        self.fin = FINInsertion(self.core.feature_dim, fin_bins) if fin_bins else None
        self.prelogits_dim = PRELOGITS if self.fin is not None else self.core.feature_dim
        self.fc = nn.Sequential(nn.Dropout(DROPOUT), nn.Linear(self.prelogits_dim, num_classes))

    def prelogits(self, images: torch.Tensor, histograms: torch.Tensor | None = None) -> torch.Tensor:
        features = self.core.features(images)
        if self.fin is None:
            return features
        if histograms is None:
            raise ValueError("a FIN member needs the images' histograms")
        return self.fin(features, histograms)

    def forward(self, images: torch.Tensor, histograms: torch.Tensor | None = None) -> torch.Tensor:
        return self.fc(self.prelogits(images, histograms))


class NPNHead(nn.Module):
    """§4.3 / Fig. 8, the trained part of NPN-m: each member's pre-logits through its own fully connected
    layer to one width d, stacked as an m×d map, an m×1 convolution across members, a final fully connected layer.
    """

    def __init__(self, member_dims: list[int], num_classes: int, width: int = NPN_WIDTH, mix_channels: int = NPN_MIX_CHANNELS) -> None:
        super().__init__()
        self.member_dims = list(member_dims)
        self.maps = nn.ModuleList(nn.Linear(dim, width) for dim in member_dims)
        self.mix = nn.Conv2d(1, mix_channels, kernel_size=(len(member_dims), 1))
        self.classifier = nn.Sequential(nn.Dropout(DROPOUT), nn.Linear(mix_channels * width, num_classes))

    def stacked(self, features: torch.Tensor) -> torch.Tensor:
        """Concatenated member pre-logits ``[N, sum(dims)]`` → the ``[N, m, d]`` map."""
        parts = torch.split(features, self.member_dims, dim=1)
        return torch.stack([mapping(part) for mapping, part in zip(self.maps, parts)], dim=1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        mixed = F.relu(self.mix(self.stacked(features)[:, None]))
        return self.classifier(mixed.flatten(1))
