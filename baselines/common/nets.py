"""Small networks built from torchvision's ResNet blocks, sized for CPU training.

No pretrained weights are fetched: a torchvision ResNet is built with
``weights=None`` and the narrow variant below reuses torchvision's
``BasicBlock`` with fewer channels and blocks.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.resnet import BasicBlock, conv1x1


class NarrowResNet(nn.Module):
    """A ResNet of ``BasicBlock`` stages; ``features`` returns the pre-logits vector."""

    def __init__(self, num_classes: int, widths: tuple[int, ...] = (16, 32, 64, 128), blocks: tuple[int, ...] = (1, 1, 1, 1)) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, widths[0], kernel_size=3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
        )
        stages = []
        channels = widths[0]
        for index, (width, count) in enumerate(zip(widths, blocks)):
            stride = 1 if index == 0 else 2
            stages.append(_stage(channels, width, count, stride))
            channels = width
        self.stages = nn.Sequential(*stages)
        self.feature_dim = channels
        self.fc = nn.Linear(channels, num_classes) if num_classes > 0 else nn.Identity()
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return torch.flatten(F.adaptive_avg_pool2d(self.stages(self.stem(images)), 1), 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(images))

    def low_layers(self) -> list[nn.Module]:
        """The stem and first stage: the layers closest to the pixels."""
        return [self.stem, self.stages[0]]


def _stage(in_channels: int, width: int, count: int, stride: int) -> nn.Sequential:
    downsample = None
    if stride != 1 or in_channels != width:
        downsample = nn.Sequential(conv1x1(in_channels, width, stride), nn.BatchNorm2d(width))
    layers = [BasicBlock(in_channels, width, stride, downsample)]
    layers += [BasicBlock(width, width) for _ in range(count - 1)]
    return nn.Sequential(*layers)


def reset_parameters(module: nn.Module, seed: int) -> None:
    """Re-initialise every layer inside ``module`` (seeded)."""
    torch.manual_seed(seed)
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d):
            nn.init.kaiming_normal_(layer.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(layer, nn.BatchNorm2d):
            layer.reset_parameters()
            layer.reset_running_stats()
        elif isinstance(layer, nn.Linear):
            layer.reset_parameters()


class EmbeddingNet(nn.Module):
    """A ResNet trunk followed by a linear projection and batch norm: the face embedding."""

    def __init__(self, dim: int = 128, widths: tuple[int, ...] = (16, 32, 64, 128), blocks: tuple[int, ...] = (1, 1, 1, 1)) -> None:
        super().__init__()
        self.trunk = NarrowResNet(0, widths, blocks)
        self.project = nn.Sequential(nn.Dropout(0.1), nn.Linear(self.trunk.feature_dim, dim), nn.BatchNorm1d(dim))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.project(self.trunk.features(images))


class MarginHead(nn.Module):
    """Classifier heads for face embeddings: softmax, CosFace or ArcFace.

    - softmax: ``W x + b``.
    - CosFace (Wang et al. 2018): ``s * (cos θ_j - m·[j = y])``.
    - ArcFace (Deng et al. 2019): ``s * cos(θ_y + m)`` for the true class,
      ``s * cos θ_j`` otherwise; when ``θ_y + m > π`` the logit falls back to
      ``cos θ_y - m sin m`` (the usual monotonic extension).
    """

    def __init__(self, kind: str, dim: int, classes: int, scale: float = 30.0, margin: float = 0.35) -> None:
        super().__init__()
        if kind not in ("softmax", "cosface", "arcface"):
            raise ValueError(f"head kind must be softmax, cosface or arcface, not {kind!r}")
        self.kind, self.scale, self.margin = kind, scale, margin
        self.weight = nn.Parameter(torch.empty(classes, dim))
        nn.init.xavier_uniform_(self.weight)
        self.bias = nn.Parameter(torch.zeros(classes)) if kind == "softmax" else None

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.kind == "softmax":
            return F.linear(embeddings, self.weight, self.bias)
        cosine = F.linear(F.normalize(embeddings), F.normalize(self.weight)).clamp(-1 + 1e-7, 1 - 1e-7)
        target = F.one_hot(labels, cosine.shape[1]).bool()
        if self.kind == "cosface":
            adjusted = cosine - self.margin
        else:
            sine = torch.sqrt(1.0 - cosine**2)
            shifted = cosine * math.cos(self.margin) - sine * math.sin(self.margin)
            adjusted = torch.where(cosine > math.cos(math.pi - self.margin), shifted, cosine - math.sin(math.pi - self.margin) * self.margin)
        return self.scale * torch.where(target, adjusted, cosine)
