"""iCartoonFace embedding trained with a CosFace, s=30, m=0.35 (large margin cosine loss)."""

from __future__ import annotations

from pathlib import Path

from baselines.checkpoints import TrainContext
from baselines.common.faces import HeadConfig, predict_face_embeddings, train_face_embedding

NAME = "icartoonface-cosface"
HEAD = HeadConfig("cosface", scale=30.0, margin=0.35)


def train(ctx: TrainContext) -> None:
    train_face_embedding(ctx, NAME, HEAD)


def predict(input_dir: Path, output_dir: Path, checkpoint: Path | None) -> None:
    predict_face_embeddings(input_dir, output_dir, checkpoint)
