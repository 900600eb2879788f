"""ToonNet + FIN (ToonNet paper §4.2, Fig. 7, Table 2): the ResNet on IUS inputs with the colour histogram inserted.

Each channel's histogram of the unified image (``HIST_BINS`` bins, ``inputs.py``)
is convolved to one vector, joined to the pre-logits, and an additional fully
connected layer gives the new pre-logits (``toonnet_nets.FINInsertion``).
"""

from __future__ import annotations

from pathlib import Path

from baselines.common.context import TrainContext
from baselines.common.toonnet_training import MemberConfig, predict_member_baseline, train_member_baseline

NAME = "toonnet-fin"
CONFIG = MemberConfig(arch="resnet", space="rgb", fin=True, ius=True, seed=0)


def train(ctx: TrainContext) -> None:
    train_member_baseline(ctx, NAME, CONFIG)


def predict(input_dir: Path, output_dir: Path, checkpoint: Path | None) -> None:
    if checkpoint is None:
        raise ValueError(f"{NAME} needs --checkpoint (train it with: python -m baselines train)")
    predict_member_baseline(input_dir, output_dir, checkpoint)
