"""Training and running the ToonNet networks with the paper's schedule (§5).

§5: an initial learning rate of 2e-3 divided by 10 every 5 epochs, Dropout
and Batch Normalization in every network. The optimiser is not named in the
paper; AdamW (as in ``training.fit``) is used. A trained network is saved as
a *member payload*: its ``MemberConfig``, classes and weights, so the plain,
IUS and FIN baselines are each one member and NPN (§4.3) reloads theirs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from baselines.common.context import TrainContext
from baselines.common.contract import read_input, reorder_columns, write_scores
from baselines.common.device import on_device
from baselines.common.toonnet_nets import ToonNetMember
from baselines.common.training import augment_batch, class_indices, run_batches, seed_everything, to_tensor
from baselines.common.weights import load_checkpoint, save_checkpoint
from baselines.toonnet_ius.inputs import HIST_BINS, ToonInputs, manifest_inputs, to_colour_space, train_inputs


@dataclass(frozen=True)
class StepSchedule:
    """§5's step schedule: ``lr`` for ``step_epochs`` epochs, then ``lr·gamma``, and so on."""

    epochs: int
    lr: float = 2e-3
    step_epochs: int = 5
    gamma: float = 0.1
    batch_size: int = 64
    weight_decay: float = 5e-4
    augment: bool = True


SCHEDULES = {"default": StepSchedule(epochs=8, step_epochs=5), "tiny": StepSchedule(epochs=20, step_epochs=10)}


def paper_schedule(profile: str) -> StepSchedule:
    """§5's schedule for a build profile. The default profile keeps the paper's 5-epoch step and stops
    3 epochs after the first division (8 epochs, the CPU budget of the first run); the tiny profile has
    15× fewer batches per epoch, so its step is 10 epochs.
    """
    return SCHEDULES.get(profile, SCHEDULES["default"])


@dataclass(frozen=True)
class MemberConfig:
    """One ToonNet network: core family, colour space of its input, FIN or not, IUS inputs or raw, seed."""

    arch: str = "resnet"
    space: str = "rgb"
    fin: bool = False
    ius: bool = True
    seed: int = 0

    def build(self, num_classes: int) -> ToonNetMember:
        return ToonNetMember(self.arch, num_classes, HIST_BINS if self.fin else None)


def fit_step(
    model: nn.Module,
    inputs: torch.Tensor,
    extras: torch.Tensor | None,
    labels: torch.Tensor,
    schedule: StepSchedule,
    seed: int,
    desc: str,
) -> list[float]:
    """Cross-entropy of ``model(inputs, extras)`` minimised over shuffled mini-batches; mean loss per epoch.

    ``inputs`` are images (augmented when the schedule says so) or, for the NPN head, feature rows.
    """
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=schedule.lr, weight_decay=schedule.weight_decay)
    stepper = torch.optim.lr_scheduler.StepLR(optimizer, step_size=schedule.step_epochs, gamma=schedule.gamma)
    losses = []
    for _ in tqdm(range(schedule.epochs), desc=desc, leave=False):
        model.train()
        order = torch.randperm(len(inputs), generator=generator)
        total = 0.0
        for start in range(0, len(inputs), schedule.batch_size):
            batch = order[start : start + schedule.batch_size]
            if len(batch) < 2:
                continue
            batch_inputs = augment_batch(inputs[batch], generator) if schedule.augment else inputs[batch]
            logits = model(batch_inputs) if extras is None else model(batch_inputs, extras[batch])
            loss = F.cross_entropy(logits, labels[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        stepper.step()
        losses.append(total / len(inputs))
    model.eval()
    return losses


def member_tensors(config: MemberConfig, inputs: ToonInputs) -> tuple[torch.Tensor, torch.Tensor]:
    """A member's network input (its colour space, normalised) and the histograms."""
    return to_tensor(to_colour_space(inputs.images, config.space)), torch.from_numpy(inputs.histograms)


def train_member(config: MemberConfig, inputs: ToonInputs, targets: torch.Tensor, classes: list[str], schedule: StepSchedule, desc: str) -> dict[str, Any]:
    """Train one network from its seed; returns its member payload."""
    seed_everything(config.seed)
    model = config.build(len(classes))
    images, histograms = member_tensors(config, inputs)
    fit_step(model, images, histograms, targets, schedule, config.seed, desc)
    return {"config": asdict(config), "classes": list(classes), "state": model.state_dict()}


def load_member(payload: dict[str, Any]) -> tuple[MemberConfig, ToonNetMember]:
    """A member payload → its config and network in eval mode."""
    if not payload.get("config"):
        raise ValueError("checkpoint predates the ToonNet recipes of §4; retrain it: python -m baselines train --retrain --benchmark toonnet")
    config = MemberConfig(**payload["config"])
    model = config.build(len(payload["classes"]))
    model.load_state_dict(payload["state"])
    return config, on_device(model).eval()


def member_outputs(config: MemberConfig, model: ToonNetMember, inputs: ToonInputs, prelogits: bool) -> np.ndarray:
    """Pre-logits ``[N, d]`` or softmax scores ``[N, C]`` of a trained member."""
    images, histograms = member_tensors(config, inputs)
    if prelogits:
        return run_batches(model.prelogits, images, histograms)
    return run_batches(lambda x, h: torch.softmax(model(x, h), dim=1), images, histograms)


def train_member_baseline(ctx: TrainContext, name: str, config: MemberConfig) -> None:
    """Train one network on the train split and save its member payload as the baseline's checkpoint."""
    classes = list(ctx.built.spec.classes)
    inputs, labels = train_inputs(ctx.built, config.ius)
    payload = train_member(config, inputs, class_indices(labels, classes), classes, paper_schedule(ctx.profile), name)
    save_checkpoint(ctx.checkpoint, {"baseline": name, **payload})


def predict_member_baseline(input_dir: Path, output_dir: Path, checkpoint: Path) -> None:
    """Softmax scores of a saved member, columns in the manifest's class order."""
    payload = load_checkpoint(checkpoint)
    config, model = load_member(payload)
    manifest = read_input(input_dir)
    scores = member_outputs(config, model, manifest_inputs(manifest, config.ius), prelogits=False)
    write_scores(output_dir, reorder_columns(scores, payload["classes"], manifest.classes))
