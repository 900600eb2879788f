"""VGG19 convolutions up to conv4_4, as a frozen feature extractor for content losses.

White-box Cartoonization (Wang & Yu, CVPR 2020, §3.4, eqs. 4 and 6) compares
images in the conv4_4 feature space of an ImageNet-pretrained VGG19. The layers
are torchvision's ``vgg19().features[:27]`` (conv1_1 … conv4_4 and its ReLU)
with the same module indices, so a torchvision state dict loads into it.

No weights can be downloaded here. ``load_vgg_features`` looks for them in
``$TOONBENCH_VGG19_WEIGHTS`` and then in torch hub's cache; when neither
exists it builds the same layers width-divided and randomly initialised from a
fixed seed: random convolutional features still compare local structure,
which is what the content and structure losses ask of them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torchvision.models.vgg import cfgs, make_layers

WEIGHTS_ENV = "TOONBENCH_VGG19_WEIGHTS"
HUB_FILE = "vgg19-dcbb9e9d.pth"
CONV4_4_END = 27
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class VggSource:
    """Where the extractor's weights came from: a file, or ``None`` for the seeded random ones."""

    path: Path | None
    width_divisor: int

    @property
    def pretrained(self) -> bool:
        return self.path is not None

    def describe(self) -> str:
        if self.path is not None:
            return f"ImageNet VGG19 conv4_4 from {self.path}"
        return f"no ImageNet weights: seeded random VGG19 conv4_4, widths / {self.width_divisor}"


def conv4_4_layers(width_divisor: int = 1) -> nn.Sequential:
    """torchvision's VGG19 layers 0…26 (conv1_1 … relu4_4), each width divided by ``width_divisor``."""
    config = [value if value == "M" else max(1, int(value) // width_divisor) for value in cfgs["E"]]
    return make_layers(config, batch_norm=False)[:CONV4_4_END]


def conv_parameter_names() -> list[str]:
    """The state-dict keys of the convolutions up to conv4_4 (``features.N.weight`` / ``.bias``)."""
    layers = conv4_4_layers()
    return [f"features.{index}.{kind}" for index, layer in enumerate(layers) if isinstance(layer, nn.Conv2d) for kind in ("weight", "bias")]


def find_weights() -> Path | None:
    """``$TOONBENCH_VGG19_WEIGHTS`` if set and present, else torch hub's cached file, else ``None``."""
    configured = os.environ.get(WEIGHTS_ENV)
    candidates = [Path(configured)] if configured else []
    candidates.append(Path(torch.hub.get_dir()) / "checkpoints" / HUB_FILE)
    return next((path for path in candidates if path.is_file()), None)


class VggFeatures(nn.Module):
    """Frozen conv4_4 features of images in [-1, 1] (normalised to ImageNet statistics inside)."""

    def __init__(self, layers: nn.Sequential, source: VggSource) -> None:
        super().__init__()
        self.features = layers
        self.source = source
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self.requires_grad_(False)
        self.eval()

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.features(((images + 1.0) / 2.0 - self.mean) / self.std)


def load_vgg_features(random_width_divisor: int = 4, seed: int = 0, path: Path | None = None) -> VggFeatures:
    """Pretrained conv4_4 layers when a weights file is found (``path`` or ``find_weights``), else seeded random ones."""
    path = path if path is not None else find_weights()
    if path is not None:
        layers = conv4_4_layers()
        state = torch.load(path, map_location="cpu", weights_only=True)
        wanted = {name.removeprefix("features."): state[name] for name in conv_parameter_names()}
        layers.load_state_dict(wanted)
        return VggFeatures(layers, VggSource(Path(path), 1))
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    layers = conv4_4_layers(random_width_divisor)
    for layer in layers:
        if isinstance(layer, nn.Conv2d):
            nn.init.kaiming_normal_(layer.weight, mode="fan_out", nonlinearity="relu")
            nn.init.zeros_(layer.bias)
    torch.random.set_rng_state(generator_state)
    return VggFeatures(layers, VggSource(None, random_width_divisor))
