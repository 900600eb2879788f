"""ToonNet + IUS (ToonNet paper §4.1, Table 1 "With IUS"): the plain ResNet trained and tested on unified inputs.

The unification is ``unify.py``; the inputs it feeds are ``inputs.py``.
"""

from __future__ import annotations

from pathlib import Path

from baselines.common.context import TrainContext
from baselines.common.toonnet_training import MemberConfig, predict_member_baseline, train_member_baseline

NAME = "toonnet-ius"
CONFIG = MemberConfig(arch="resnet", space="rgb", fin=False, ius=True, seed=0)


def train(ctx: TrainContext) -> None:
    train_member_baseline(ctx, NAME, CONFIG)


def predict(input_dir: Path, output_dir: Path, checkpoint: Path | None) -> None:
    if checkpoint is None:
        raise ValueError(f"{NAME} needs --checkpoint (train it with: python -m baselines train)")
    predict_member_baseline(input_dir, output_dir, checkpoint)
