"""iCartoonFace embedding trained with a ArcFace, s=30, m=0.5 (additive angular margin loss)."""

from __future__ import annotations

from pathlib import Path

from baselines.checkpoints import TrainContext
from baselines.common.faces import HeadConfig, predict_face_embeddings, train_face_embedding

NAME = "icartoonface-arcface"
HEAD = HeadConfig("arcface", scale=30.0, margin=0.5)


def train(ctx: TrainContext) -> None:
    train_face_embedding(ctx, NAME, HEAD)


def predict(input_dir: Path, output_dir: Path, checkpoint: Path | None) -> None:
    predict_face_embeddings(input_dir, output_dir, checkpoint)
