"""What the learned cartoonizers share: unpaired photo and cartoon sets, crops, GAN losses, inference.

The cartoonization baselines (White-box, CartoonGAN, semantic-aware) all
train a generator on the train split's photos (domain ``photo``) against its
cartoons (domain ``cartoon``), unpaired, on random crops, with Adam and the
standard (log-loss) GAN objective; they differ in what the discriminators see
and in the extra losses. Images travel as float tensors ``[N, 3, H, W]`` in
[-1, 1].
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from baselines.common.context import TrainContext
from baselines.common.contract import read_rgb
from baselines.common.device import current_device, on_device
from baselines.common.translate import translate_folder
from baselines.common.weights import load_checkpoint, save_checkpoint


@dataclass(frozen=True)
class Schedule:
    """Steps of the initialisation phase and of adversarial training, batch size and crop side."""

    init_steps: int
    steps: int
    batch_size: int
    crop: int

    def fitted(self, side: int) -> Schedule:
        """The same schedule with its crop no larger than ``side``."""
        return Schedule(self.init_steps, self.steps, self.batch_size, min(self.crop, side))


def domain_images(ctx: TrainContext, domain: str) -> np.ndarray:
    """The train split's images of one domain as uint8 ``[N, H, W, 3]``."""
    paths = [Path(ctx.built.folder) / item.path for item in ctx.built.train_items() if item.domain == domain]
    if not paths:
        raise ValueError(f"{ctx.built.folder}: the train split has no {domain} images")
    return np.stack([read_rgb(path) for path in paths])


def to_signed(images: np.ndarray) -> torch.Tensor:
    """uint8 ``[N, H, W, 3]`` → float ``[N, 3, H, W]`` in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """float ``[N, 3, H, W]`` in [-1, 1] → uint8 ``[N, H, W, 3]``."""
    return ((images.clamp(-1, 1) + 1.0) * 127.5 + 0.5).permute(0, 2, 3, 1).numpy().astype(np.uint8)


def smallest_side(*images: torch.Tensor) -> int:
    """The smallest height or width among image batches ``[N, C, H, W]``."""
    return min(min(batch.shape[-2:]) for batch in images)


def random_crops(images: torch.Tensor, count: int, crop: int, generator: torch.Generator) -> torch.Tensor:
    """``count`` random ``crop``² patches of randomly chosen images, each flipped with probability ½."""
    picks = torch.randint(len(images), (count,), generator=generator).tolist()
    height, width = images.shape[-2:]
    ys = torch.randint(height - crop + 1, (count,), generator=generator).tolist()
    xs = torch.randint(width - crop + 1, (count,), generator=generator).tolist()
    flips = (torch.rand(count, generator=generator) < 0.5).tolist()
    patches = [images[i, :, y : y + crop, x : x + crop] for i, y, x in zip(picks, ys, xs)]
    return torch.stack([patch.flip(-1) if flip else patch for patch, flip in zip(patches, flips)])


def discriminator_loss(disc: nn.Module, real: torch.Tensor, fakes: Iterable[torch.Tensor]) -> torch.Tensor:
    """The discriminator's side of the log-loss GAN: −log D(real) − Σ log(1 − D(fake)), averaged per patch."""
    return F.softplus(-disc(real)).mean() + sum(F.softplus(disc(fake.detach())).mean() for fake in fakes)


def generator_adversarial(disc: nn.Module, fake: torch.Tensor) -> torch.Tensor:
    """The non-saturating generator side: −log D(G(photo)) per patch."""
    return F.softplus(-disc(fake)).mean()


def adam(parameters: Iterable[nn.Parameter], lr: float, betas: tuple[float, float]) -> torch.optim.Adam:
    return torch.optim.Adam(parameters, lr=lr, betas=betas)


def step(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> float:
    """One optimiser step on ``loss``; returns its value."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.item()


def translate_with(model: Callable[[torch.Tensor], torch.Tensor], input_dir: Path, output_dir: Path, desc: str) -> None:
    """Run ``model`` (photo batch in [-1, 1] → cartoon batch in [-1, 1]) on every input photo, one at a time."""

    @torch.no_grad()
    def one(photo: np.ndarray) -> np.ndarray:
        return to_uint8(model(to_signed(photo[None]).to(current_device())).cpu())[0]

    translate_folder(input_dir, output_dir, one, desc=desc)


def save_generator(path: Path, name: str, shape: Any, schedule: Schedule, vgg: str, log: dict[str, list[float]],
                   generator: nn.Module, **extra: Any) -> None:
    """The checkpoint of a trained cartoonizer: its shape (a dataclass), schedule, VGG source, loss log and weights."""
    save_checkpoint(path, {"baseline": name, "shape": asdict(shape), "schedule": asdict(schedule), "vgg": vgg,
                           "losses": log, "state": generator.state_dict(), **extra})


def load_generator(name: str, checkpoint: Path | None, build: Callable[[dict[str, Any]], nn.Module]) -> nn.Module:
    """The generator ``build(shape)`` with the checkpoint's weights, in eval mode."""
    if checkpoint is None:
        raise FileNotFoundError(f"{name} needs a checkpoint; train it with: python -m baselines train --only {name}")
    payload = load_checkpoint(checkpoint)
    generator = build(payload["shape"])
    generator.load_state_dict(payload["state"])
    return on_device(generator).eval()
