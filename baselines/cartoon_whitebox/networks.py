"""Generator and discriminators of White-box Cartoonization (Wang & Yu, CVPR 2020, §3.5, Fig. 4).

Generator: a small fully convolutional U-Net: a 7×7 stem, two stride-2
downsampling stages, residual blocks at the bottom, bilinear upsampling with
additive skips, LeakyReLU (0.2) throughout, a 7×7 output convolution. The
paper's width is 32 with 4 residual blocks; ``GeneratorShape`` scales both
for a CPU. Discriminator: a PatchGAN of three stride-2 stages (two 3×3
convolutions each, widths w, 2w, 4w) and a 1×1 convolution to one logit per
patch; every convolution carries spectral normalisation.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

SLOPE = 0.2


@dataclass(frozen=True)
class GeneratorShape:
    width: int = 32
    blocks: int = 4


def conv(in_channels: int, out_channels: int, kernel: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, kernel, stride=stride, padding=kernel // 2)


class ResBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.first, self.second = conv(channels, channels, 3), conv(channels, channels, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.second(F.leaky_relu(self.first(x), SLOPE))


class Generator(nn.Module):
    """Photo in [-1, 1] → cartoon (unbounded; the guided filter and a clamp follow at inference)."""

    def __init__(self, shape: GeneratorShape = GeneratorShape()) -> None:
        super().__init__()
        w = shape.width
        self.stem = conv(3, w, 7)
        self.down1 = nn.ModuleList([conv(w, w, 3, 2), conv(w, 2 * w, 3)])
        self.down2 = nn.ModuleList([conv(2 * w, 2 * w, 3, 2), conv(2 * w, 4 * w, 3)])
        self.blocks = nn.Sequential(*[ResBlock(4 * w) for _ in range(shape.blocks)])
        self.bottleneck = conv(4 * w, 2 * w, 3)
        self.up1 = nn.ModuleList([conv(2 * w, 2 * w, 3), conv(2 * w, w, 3)])
        self.up2 = conv(w, w, 3)
        self.head = conv(w, 3, 7)

    @staticmethod
    def _stage(layers: nn.ModuleList, x: torch.Tensor) -> torch.Tensor:
        for layer in layers:
            x = F.leaky_relu(layer(x), SLOPE)
        return x

    def forward(self, photo: torch.Tensor) -> torch.Tensor:
        x0 = F.leaky_relu(self.stem(photo), SLOPE)
        x1 = self._stage(self.down1, x0)
        x2 = self._stage(self.down2, x1)
        x2 = F.leaky_relu(self.bottleneck(self.blocks(x2)), SLOPE)
        x3 = F.interpolate(x2, size=x1.shape[-2:], mode="bilinear", align_corners=False)
        x3 = self._stage(self.up1, x3 + x1)
        x4 = F.interpolate(x3, size=x0.shape[-2:], mode="bilinear", align_corners=False)
        x4 = F.leaky_relu(self.up2(x4 + x0), SLOPE)
        return self.head(x4)


class PatchDiscriminator(nn.Module):
    """Spectrally normalised PatchGAN: ``[N, C, H, W]`` → ``[N, 1, H/8, W/8]`` logits."""

    def __init__(self, in_channels: int, width: int = 32) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = in_channels
        for stage in range(3):
            out = width * 2**stage
            layers += [spectral_norm(conv(channels, out, 3, 2)), nn.LeakyReLU(SLOPE),
                       spectral_norm(conv(out, out, 3)), nn.LeakyReLU(SLOPE)]
            channels = out
        layers.append(spectral_norm(conv(channels, 1, 1)))
        self.net = nn.Sequential(*layers)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images)
