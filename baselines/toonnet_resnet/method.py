"""ToonNet's plain CNN (the "Custom" column of the ToonNet paper's Table 1): a ResNet on the raw RGB images.

Trained like the recipe networks (§5 schedule, same core and seed), so the
IUS, FIN and NPN rows differ from this one by their recipe only.
"""

from __future__ import annotations

from pathlib import Path

from baselines.common.context import TrainContext
from baselines.common.toonnet_training import MemberConfig, predict_member_baseline, train_member_baseline

NAME = "toonnet-resnet"
CONFIG = MemberConfig(arch="resnet", space="rgb", fin=False, ius=False, seed=0)


def train(ctx: TrainContext) -> None:
    train_member_baseline(ctx, NAME, CONFIG)


def predict(input_dir: Path, output_dir: Path, checkpoint: Path | None) -> None:
    if checkpoint is None:
        raise ValueError(f"{NAME} needs --checkpoint (train it with: python -m baselines train)")
    predict_member_baseline(input_dir, output_dir, checkpoint)
