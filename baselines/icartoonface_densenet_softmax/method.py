"""iCartoonFace embedding on the DenseNet trunk trained with a plain softmax (Table 4's SoftMax row, on Table 2's best backbone).

Table 4 compares the losses on DenseNet-169 (its SphereFace row is Table 2's
DenseNet-169 row), so its SoftMax row is this recipe on the full network.
It is the leaderboard's second backbone family of Table 2 beside the narrow
ResNet of ``icartoonface-softmax``, with the same two softmax stages and
epochs (``warmup``). A SphereFace stage after this warm-up does not converge
in the CPU schedule (README.md).
"""

from __future__ import annotations

from pathlib import Path

from baselines.common.context import TrainContext
from baselines.common.faces import HeadConfig, predict_face_embeddings, train_face_embedding

NAME = "icartoonface-densenet-softmax"
HEAD = HeadConfig("softmax", backbone="densenet", warmup=True)


def train(ctx: TrainContext) -> None:
    train_face_embedding(ctx, NAME, HEAD)


def predict(input_dir: Path, output_dir: Path, checkpoint: Path | None) -> None:
    predict_face_embeddings(input_dir, output_dir, checkpoint)
