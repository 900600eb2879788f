"""CartoonGAN's generator and discriminator (Chen, Lai & Liu, CVPR 2018, §3.1, Fig. 2), width-scaled.

Generator: a flat 7×7 convolution (width w), two down-convolution blocks
(a stride-2 and a stride-1 3×3 convolution each, widths 2w and 4w),
residual blocks of two 3×3 convolutions with batch norm (8 in the paper),
two up-convolution blocks (a stride-½ transposed and a stride-1 3×3
convolution each, widths 2w and w) and a 7×7 convolution to RGB; batch
norm and ReLU after each block, tanh at the output. The paper's w is 64.

Discriminator: a flat 3×3 convolution (w/2), two strided blocks (a stride-2
convolution, then a stride-1 one with batch norm: w, 2w and 2w, 4w), a 3×3
feature convolution with batch norm (4w) and a 3×3 convolution to one logit
per patch (H/4 × W/4); LeakyReLU 0.2. The paper's w is 64 (32 at the flat
layer).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

SLOPE = 0.2
STRIDE_PRODUCT = 4


@dataclass(frozen=True)
class CartoonGanShape:
    width: int = 64
    blocks: int = 8


def conv(in_channels: int, out_channels: int, kernel: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, kernel, stride=stride, padding=kernel // 2)


def up_conv(in_channels: int, out_channels: int) -> nn.ConvTranspose2d:
    """A 3×3 transposed convolution that doubles height and width exactly."""
    return nn.ConvTranspose2d(in_channels, out_channels, 3, stride=2, padding=1, output_padding=1)


class ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(conv(channels, channels, 3), nn.BatchNorm2d(channels), nn.ReLU(inplace=True),
                                  conv(channels, channels, 3), nn.BatchNorm2d(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class CartoonGanGenerator(nn.Module):
    """Photo in [-1, 1] → cartoon in [-1, 1], any size (reflect-padded to a multiple of 4 inside)."""

    def __init__(self, shape: CartoonGanShape = CartoonGanShape()) -> None:
        super().__init__()
        w = shape.width
        self.net = nn.Sequential(
            conv(3, w, 7), nn.BatchNorm2d(w), nn.ReLU(inplace=True),
            conv(w, 2 * w, 3, 2), conv(2 * w, 2 * w, 3), nn.BatchNorm2d(2 * w), nn.ReLU(inplace=True),
            conv(2 * w, 4 * w, 3, 2), conv(4 * w, 4 * w, 3), nn.BatchNorm2d(4 * w), nn.ReLU(inplace=True),
            *[ResidualBlock(4 * w) for _ in range(shape.blocks)],
            up_conv(4 * w, 2 * w), conv(2 * w, 2 * w, 3), nn.BatchNorm2d(2 * w), nn.ReLU(inplace=True),
            up_conv(2 * w, w), conv(w, w, 3), nn.BatchNorm2d(w), nn.ReLU(inplace=True),
            conv(w, 3, 7), nn.Tanh(),
        )

    def forward(self, photo: torch.Tensor) -> torch.Tensor:
        height, width = photo.shape[-2:]
        pad_h, pad_w = -height % STRIDE_PRODUCT, -width % STRIDE_PRODUCT
        padded = F.pad(photo, (0, pad_w, 0, pad_h), mode="reflect") if pad_h or pad_w else photo
        return self.net(padded)[..., :height, :width]


class CartoonGanDiscriminator(nn.Module):
    """RGB image → ``[N, 1, H/4, W/4]`` patch logits (cartoon or not)."""

    def __init__(self, width: int = 64) -> None:
        super().__init__()
        w = width
        self.net = nn.Sequential(
            conv(3, w // 2, 3), nn.LeakyReLU(SLOPE),
            conv(w // 2, w, 3, 2), nn.LeakyReLU(SLOPE), conv(w, 2 * w, 3), nn.BatchNorm2d(2 * w), nn.LeakyReLU(SLOPE),
            conv(2 * w, 2 * w, 3, 2), nn.LeakyReLU(SLOPE), conv(2 * w, 4 * w, 3), nn.BatchNorm2d(4 * w), nn.LeakyReLU(SLOPE),
            conv(4 * w, 4 * w, 3), nn.BatchNorm2d(4 * w), nn.LeakyReLU(SLOPE),
            conv(4 * w, 1, 3),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images)
