"""ToonNet + IUS: the plain CNN trained and tested on unified-style inputs."""

from __future__ import annotations

from pathlib import Path

from baselines.common.classify import predict_plain_cnn, train_plain_cnn
from baselines.common.context import TrainContext
from baselines.toonnet_ius.unify import unify_style

NAME = "toonnet-ius"
SEED = 0
EPOCHS = {"default": 8, "tiny": 10}


def train(ctx: TrainContext) -> None:
    train_plain_cnn(ctx, NAME, EPOCHS.get(ctx.profile, EPOCHS["default"]), SEED, transform=unify_style)


def predict(input_dir: Path, output_dir: Path, checkpoint: Path | None) -> None:
    if checkpoint is None:
        raise ValueError(f"{NAME} needs --checkpoint (train it with: python -m baselines train)")
    predict_plain_cnn(input_dir, output_dir, checkpoint, transform=unify_style)
