"""iCartoonFace embedding trained with a plain softmax cross-entropy over the train identities.

It trains the softmax warm-up that the margin heads start from, then as
many epochs again with softmax, so every face baseline gets the same
schedule (``baselines.common.faces.HeadConfig``)."""

from __future__ import annotations

from pathlib import Path

from baselines.common.context import TrainContext
from baselines.common.faces import HeadConfig, predict_face_embeddings, train_face_embedding

NAME = "icartoonface-softmax"
HEAD = HeadConfig("softmax", warmup=True)


def train(ctx: TrainContext) -> None:
    train_face_embedding(ctx, NAME, HEAD)


def predict(input_dir: Path, output_dir: Path, checkpoint: Path | None) -> None:
    predict_face_embeddings(input_dir, output_dir, checkpoint)
