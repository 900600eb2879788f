"""iCartoonFace embedding trained with an ArcFace head (additive angular margin loss, iCartoonFace eqs. 5-6).

The iCartoonFace paper does not state ArcFace's s and m, so the ArcFace
paper's defaults are used (Deng et al. 2019: s = 64, m = 0.5).

It starts from the trained icartoonface-softmax embedding: with these s
and m a from-scratch network does not converge in the CPU-sized schedule
(README.md)."""

from __future__ import annotations

from pathlib import Path

from baselines.common.context import TrainContext
from baselines.common.faces import HeadConfig, predict_face_embeddings, train_face_embedding

NAME = "icartoonface-arcface"
HEAD = HeadConfig("arcface", scale=64.0, margin=0.5, start_from="icartoonface-softmax")


def train(ctx: TrainContext) -> None:
    train_face_embedding(ctx, NAME, HEAD)


def predict(input_dir: Path, output_dir: Path, checkpoint: Path | None) -> None:
    predict_face_embeddings(input_dir, output_dir, checkpoint)
