"""Small networks built from torchvision's ResNet and DenseNet blocks, sized for CPU training.

No pretrained weights are fetched: a torchvision ResNet is built with
``weights=None``, the narrow ResNet below reuses torchvision's ``BasicBlock``
with fewer channels and blocks, and the narrow DenseNet is torchvision's
``DenseNet`` with fewer and thinner dense blocks. The face embedding and its
training heads (softmax, SphereFace, CosFace, ArcFace) close the module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import DenseNet
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


class NarrowDenseNet(nn.Module):
    """DenseNet-169's layout (iCartoonFace Table 2's best backbone) scaled for 48 px inputs on a CPU.

    torchvision's ``DenseNet`` with its four dense blocks (bottleneck
    ``bn_size`` 4, transitions halving the channels): growth rate 32 → 16,
    block lengths (6, 12, 32, 32) → (2, 4, 6, 4), 64 → 32 stem channels, and
    a 3×3 stride-2 stem convolution instead of 7×7 (the 3×3 max pool stays).
    ``features`` returns the pre-logits vector.
    """

    def __init__(self, num_classes: int, growth_rate: int = 16, block_config: tuple[int, int, int, int] = (2, 4, 6, 4), init_features: int = 32) -> None:
        super().__init__()
        dense = DenseNet(growth_rate=growth_rate, block_config=block_config, num_init_features=init_features, num_classes=1)
        dense.features.conv0 = nn.Conv2d(3, init_features, kernel_size=3, stride=2, padding=1, bias=False)
        nn.init.kaiming_normal_(dense.features.conv0.weight)
        self.body = dense.features
        self.feature_dim = dense.classifier.in_features
        self.fc = nn.Linear(self.feature_dim, num_classes) if num_classes > 0 else nn.Identity()

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return torch.flatten(F.adaptive_avg_pool2d(F.relu(self.body(images)), 1), 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(images))


BACKBONES = {"resnet": NarrowResNet, "densenet": NarrowDenseNet}


class EmbeddingNet(nn.Module):
    """A trunk (``backbone``: ``resnet`` or ``densenet``), a linear projection and batch norm: the face embedding."""

    def __init__(self, dim: int = 128, backbone: str = "resnet") -> None:
        super().__init__()
        if backbone not in BACKBONES:
            raise ValueError(f"backbone must be one of {', '.join(BACKBONES)}, not {backbone!r}")
        self.trunk = BACKBONES[backbone](0)
        self.project = nn.Sequential(nn.Dropout(0.1), nn.Linear(self.trunk.feature_dim, dim), nn.BatchNorm1d(dim))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.project(self.trunk.features(images))


HEAD_KINDS = ("softmax", "sphereface", "cosface", "arcface")


@dataclass(frozen=True)
class SphereAnnealing:
    """SphereFace's λ, which eases A-Softmax in from plain softmax (Liu et al. 2017).

    λ(t) = max(λ_min, base · (1 + γ t)^(-power)) at training step t; the true
    class's logit is (λ‖x‖cos θ + ‖x‖ψ(θ)) / (1 + λ). The defaults are those
    of the authors' released CASIA-WebFace model (base 1000, γ 0.12, power 1,
    λ_min 5 over 28,000 iterations); ``for_steps`` rescales γ so a shorter
    run reaches λ_min at the same fraction of its steps.
    """

    base: float = 1000.0
    gamma: float = 0.12
    power: float = 1.0
    minimum: float = 5.0
    reference_steps: int = 28_000

    def at(self, step: int) -> float:
        return max(self.minimum, self.base * (1.0 + self.gamma * step) ** -self.power)

    def for_steps(self, steps: int) -> "SphereAnnealing":
        scaled = self.gamma * self.reference_steps / max(1, steps)
        return SphereAnnealing(self.base, scaled, self.power, self.minimum, self.reference_steps)


def chebyshev_cos(cosine: torch.Tensor, m: int) -> torch.Tensor:
    """cos(mθ) as the Chebyshev polynomial T_m(cos θ): exact, and smooth in cos θ where acos is not."""
    previous, current = torch.ones_like(cosine), cosine
    if m == 0:
        return previous
    for _ in range(m - 1):
        previous, current = current, 2 * cosine * current - previous
    return current


def sphere_psi(cosine: torch.Tensor, m: int) -> torch.Tensor:
    """ψ(θ) = (-1)^k cos(mθ) - 2k for θ in [kπ/m, (k+1)π/m] (iCartoonFace eq. 2): decreasing on [0, π]."""
    k = torch.floor(m * torch.acos(cosine.detach()) / math.pi).clamp(0, m - 1)
    sign = 1.0 - 2.0 * torch.remainder(k, 2)
    return sign * chebyshev_cos(cosine, m) - 2.0 * k


class MarginHead(nn.Module):
    """Classifier heads for face embeddings, as iCartoonFace §"Loss Functions" writes them (eqs. 1-6).

    With x the embedding, W_j the class weights, cos θ_j = W_j·x / (‖W_j‖‖x‖):

    - softmax: ``W x + b``.
    - SphereFace / A-Softmax (eqs. 1-2; Liu et al. 2017): ‖x‖ψ(θ_y) for the
      true class, ‖x‖cos θ_j otherwise; ``margin`` is the integer m, ``scale``
      is unused (‖x‖ plays its part). While training, λ (``annealing``)
      blends in ‖x‖cos θ_y; without ``annealing`` the logits are eq. 1's.
    - CosFace (eqs. 3-4; Wang et al. 2018): ``s (cos θ_j - m·[j = y])``.
    - ArcFace (eqs. 5-6; Deng et al. 2019): ``s cos(θ_y + m)`` for the true
      class, ``s cos θ_j`` otherwise; when ``θ_y + m > π`` the logit falls back
      to ``s (cos θ_y - m sin m)`` (the authors' monotonic extension).
    """

    def __init__(self, kind: str, dim: int, classes: int, scale: float = 64.0, margin: float = 0.35, annealing: SphereAnnealing | None = None) -> None:
        super().__init__()
        if kind not in HEAD_KINDS:
            raise ValueError(f"head kind must be one of {', '.join(HEAD_KINDS)}, not {kind!r}")
        if kind == "sphereface" and (margin != int(margin) or margin < 1):
            raise ValueError(f"SphereFace's margin m is an integer >= 1, not {margin!r}")
        self.kind, self.scale, self.margin, self.annealing = kind, scale, margin, annealing
        self.weight = nn.Parameter(torch.empty(classes, dim))
        nn.init.xavier_uniform_(self.weight)
        self.bias = nn.Parameter(torch.zeros(classes)) if kind == "softmax" else None
        self.register_buffer("step", torch.zeros((), dtype=torch.long))

    def sphere_lambda(self) -> float:
        """The current λ of SphereFace's annealing (0 without one)."""
        return self.annealing.at(int(self.step)) if self.annealing is not None else 0.0

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.kind == "softmax":
            return F.linear(embeddings, self.weight, self.bias)
        cosine = F.linear(F.normalize(embeddings), F.normalize(self.weight)).clamp(-1 + 1e-7, 1 - 1e-7)
        target = F.one_hot(labels, cosine.shape[1]).bool()
        if self.kind == "sphereface":
            return embeddings.norm(dim=1, keepdim=True) * torch.where(target, self._annealed_psi(cosine), cosine)
        if self.kind == "cosface":
            adjusted = cosine - self.margin
        else:
            sine = torch.sqrt(1.0 - cosine**2)
            shifted = cosine * math.cos(self.margin) - sine * math.sin(self.margin)
            adjusted = torch.where(cosine > math.cos(math.pi - self.margin), shifted, cosine - math.sin(self.margin) * self.margin)
        return self.scale * torch.where(target, adjusted, cosine)

    def _annealed_psi(self, cosine: torch.Tensor) -> torch.Tensor:
        lam = self.sphere_lambda()
        if self.training:
            self.step += 1
        return (lam * cosine + sphere_psi(cosine, int(self.margin))) / (1.0 + lam)
