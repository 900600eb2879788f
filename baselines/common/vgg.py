"""torchvision's VGG19 (configuration "E"), width-scaled for a CPU, and its fc7 features.

Lagunas & Garces §5.1: 16 3×3 convolutions in five blocks, each closed by a
2×2 max-pool, then three fully connected layers (fc6, fc7: 4096; fc8: the
classes) with ReLU and dropout between them. ``Vgg19`` builds exactly that
with torchvision's own ``cfgs["E"]`` and ``make_layers`` and the module names
of ``torchvision.models.vgg19`` (``features.N``, ``avgpool``, ``classifier.N``),
so a torchvision state dict loads into it. With ``VggShape(1, 4096, 7)`` it is
torchvision's VGG19; the baselines divide the convolution widths and the fc
widths and pool the last map to a smaller grid so that it trains on 2 cores.

The paper numbers the 19 weight layers 1–16 (convolutions) and 17–19 (fc6–fc8);
``paper_layers`` maps those numbers onto the module names.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torchvision.models.vgg import cfgs, make_layers

WEIGHTS_ENV = "TOONBENCH_VGG19_WEIGHTS"
HUB_FILE = "vgg19-dcbb9e9d.pth"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class VggShape:
    """Channels divided by ``divisor``, fc6/fc7 ``fc_width`` wide, last map pooled to ``pool``×``pool``.

    ``batch_norm`` gives torchvision's ``vgg19_bn`` layout: the plain VGG19 did
    not learn at all from scratch in a CPU-sized schedule (loss flat at
    ln 23 after 8 epochs with AdamW at 3e-3), so training from scratch uses it.
    """

    divisor: int = 8
    fc_width: int = 512
    pool: int = 1
    batch_norm: bool = True

    @property
    def last_channels(self) -> int:
        return 512 // self.divisor


FULL = VggShape(1, 4096, 7, batch_norm=False)


def scaled_config(divisor: int) -> list[int | str]:
    """torchvision's VGG19 layer list ("E") with every convolution's width divided by ``divisor``."""
    return [item if item == "M" else int(item) // divisor for item in cfgs["E"]]


class Vgg19(nn.Module):
    """torchvision's ``VGG`` layout (same module names and indices) at the given shape."""

    def __init__(self, num_classes: int, shape: VggShape = VggShape(), dropout: float = 0.5) -> None:
        super().__init__()
        self.shape = shape
        self.features = make_layers(scaled_config(shape.divisor), batch_norm=shape.batch_norm)
        self.avgpool = nn.AdaptiveAvgPool2d((shape.pool, shape.pool))
        self.classifier = nn.Sequential(
            nn.Linear(shape.last_channels * shape.pool * shape.pool, shape.fc_width),
            nn.ReLU(True),
            nn.Dropout(dropout),
            nn.Linear(shape.fc_width, shape.fc_width),
            nn.ReLU(True),
            nn.Dropout(dropout),
            nn.Linear(shape.fc_width, num_classes),
        )
        for module in self.modules():
            initialise(module)

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.avgpool(self.features(x)), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pooled(x))

    def fc7(self, x: torch.Tensor) -> torch.Tensor:
        """The second fully connected layer's output after its ReLU (classifier[3], classifier[4])."""
        return self.classifier[:5](self.pooled(x))


def initialise(module: nn.Module) -> None:
    """torchvision's VGG initialisation: He (fan-out) for convolutions, N(0, 0.01) for fc layers, zero biases."""
    if isinstance(module, nn.Conv2d):
        nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)
        module.reset_running_stats()
    elif isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, 0, 0.01)
        nn.init.zeros_(module.bias)


def paper_layers(model: Vgg19) -> dict[int, str]:
    """Paper layer number (1–19, §5.1 and §7.1) → module name: the weight layers in forward order."""
    names = [name for name, module in model.named_modules() if isinstance(module, (nn.Conv2d, nn.Linear))]
    return {number: name for number, name in enumerate(names, start=1)}


def layer_modules(model: Vgg19, number: int) -> list[nn.Module]:
    """Paper layer ``number``'s weight layer, with the batch norm right after it in the ``vgg19_bn`` layout."""
    modules = dict(model.named_modules())
    name = paper_layers(model)[number]
    group, index = name.split(".")
    following = modules.get(f"{group}.{int(index) + 1}")
    return [modules[name], following] if isinstance(following, nn.BatchNorm2d) else [modules[name]]


def layer_parameters(model: Vgg19, numbers: range) -> list[nn.Parameter]:
    return [p for number in numbers for module in layer_modules(model, number) for p in module.parameters()]


def reinitialise(model: Vgg19, numbers: range, seed: int) -> None:
    """Fresh weights (torchvision's initialisation, seeded) for the given paper layers."""
    torch.manual_seed(seed)
    for number in numbers:
        for module in layer_modules(model, number):
            initialise(module)


def shape_of_state(state: dict[str, torch.Tensor]) -> VggShape:
    """Read the width divisor, fc width, pool grid and batch norm off a torchvision-layout VGG19 state dict."""
    divisor = 64 // state["features.0.weight"].shape[0]
    fc_width, fc6_inputs = state["classifier.0.weight"].shape
    pool = math.isqrt(fc6_inputs // (512 // divisor))
    return VggShape(divisor, int(fc_width), pool, "features.1.running_mean" in state)


def weights_file() -> Path | None:
    """The configured ImageNet VGG19 weights (``$TOONBENCH_VGG19_WEIGHTS``, else torch hub's cache), if present."""
    configured = os.environ.get(WEIGHTS_ENV)
    candidate = Path(configured) if configured else Path(torch.hub.get_dir()) / "checkpoints" / HUB_FILE
    return candidate if candidate.is_file() else None


def load_vgg19(path: Path, num_classes: int) -> Vgg19:
    """A ``Vgg19`` shaped like the file's state dict and holding its weights; fc8 is new when the class count differs."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    state = {key: value.float() if value.is_floating_point() else value for key, value in state.items()}
    model = Vgg19(num_classes, shape_of_state(state))
    if state["classifier.6.weight"].shape[0] != num_classes:
        state = {key: value for key, value in state.items() if not key.startswith("classifier.6.")}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or set(missing) - {"classifier.6.weight", "classifier.6.bias"}:
        raise ValueError(f"{path}: not a torchvision VGG19 state dict (missing {missing}, unexpected {unexpected})")
    return model.eval()


def vgg_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 ``[N, H, W, 3]`` → float ``[N, 3, H, W]`` normalised with the ImageNet statistics torchvision's VGG19 expects."""
    tensor = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255.0
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (tensor - mean) / std
