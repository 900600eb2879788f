"""Seeded CPU training loops shared by the baselines.

Everything runs in-process on tensors held in memory (no DataLoader workers),
with ``torch.set_num_threads`` fixed, so the same seed gives the same weights.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from baselines.common.device import current_device
from baselines.common.entry import torch_threads

MEAN, STD = 0.5, 0.25


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch and pin the thread count (``torch_threads``).

    Results are reproducible for a fixed thread count.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(torch_threads())


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 ``[N, H, W, 3]`` → normalised float ``[N, 3, H, W]``."""
    tensor = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float()
    return (tensor / 255.0 - MEAN) / STD


def augment_batch(images: torch.Tensor, generator: torch.Generator, pad: int = 4) -> torch.Tensor:
    """Random horizontal flips and translations by up to ``pad`` pixels (edge padding)."""
    count, _, height, width = images.shape
    flips = torch.rand(count, generator=generator) < 0.5
    images = torch.where(flips[:, None, None, None], images.flip(3), images)
    padded = nn.functional.pad(images, (pad, pad, pad, pad), mode="replicate")
    shifts = torch.randint(0, 2 * pad + 1, (count, 2), generator=generator)
    return torch.stack([padded[i, :, y : y + height, x : x + width] for i, (y, x) in enumerate(shifts.tolist())])


@dataclass(frozen=True)
class FitSettings:
    epochs: int
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 5e-4
    augment: bool = True


BatchLoss = Callable[[torch.Tensor, torch.Tensor | None, torch.Tensor], torch.Tensor]


def fit(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    batch_loss: BatchLoss,
    settings: FitSettings,
    seed: int,
    extras: torch.Tensor | None = None,
    param_groups: Sequence[dict] | None = None,
    desc: str = "training",
) -> list[float]:
    """AdamW with a one-cycle schedule over shuffled mini-batches; returns the mean loss per epoch.

    ``batch_loss(images, extras, labels)`` computes the loss of one batch;
    ``param_groups`` (each with its own ``lr``) overrides the single rate.
    """
    generator = torch.Generator().manual_seed(seed)
    groups = list(param_groups) if param_groups is not None else [{"params": [p for p in model.parameters() if p.requires_grad], "lr": settings.lr}]
    optimizer = torch.optim.AdamW(groups, weight_decay=settings.weight_decay)
    steps_per_epoch = max(1, (len(images) + settings.batch_size - 1) // settings.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=[group["lr"] for group in groups], epochs=settings.epochs, steps_per_epoch=steps_per_epoch, pct_start=0.2
    )
    losses = []
    progress = tqdm(range(settings.epochs), desc=desc, leave=False)
    for _ in progress:
        model.train()
        order = torch.randperm(len(images), generator=generator)
        total = 0.0
        for start in range(0, len(images), settings.batch_size):
            batch = order[start : start + settings.batch_size]
            if len(batch) < 2:
                continue
            inputs = images[batch]
            if settings.augment:
                inputs = augment_batch(inputs, generator)
            loss = batch_loss(inputs, None if extras is None else extras[batch], labels[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(batch)
        losses.append(total / len(images))
        progress.set_postfix(loss=f"{losses[-1]:.3f}")
    model.eval()
    return losses


@torch.no_grad()
def run_batches(fn: Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor], images: torch.Tensor, extras: torch.Tensor | None = None, batch_size: int = 256) -> np.ndarray:
    """Apply ``fn(images, extras)`` in eval batches on the chosen device and stack the float32 results."""
    device = current_device()
    outputs = []
    for start in range(0, len(images), batch_size):
        stop = start + batch_size
        batch = images[start:stop].to(device)
        extra = None if extras is None else extras[start:stop].to(device)
        outputs.append(fn(batch, extra).float().cpu().numpy())
    return np.concatenate(outputs).astype(np.float32) if outputs else np.zeros((0, 0), np.float32)


def class_indices(labels: Sequence[str], classes: Sequence[str]) -> torch.Tensor:
    """Class names → indices in ``classes`` order; unknown names are an error."""
    lookup = {name: index for index, name in enumerate(classes)}
    unknown = sorted(set(labels) - set(lookup))
    if unknown:
        raise ValueError(f"labels {unknown} are not among the benchmark's classes")
    return torch.tensor([lookup[name] for name in labels], dtype=torch.long)
