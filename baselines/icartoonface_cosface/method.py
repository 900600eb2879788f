"""iCartoonFace embedding trained with a CosFace head (large margin cosine loss, iCartoonFace eqs. 3-4).

The iCartoonFace paper does not state CosFace's s and m, so the CosFace
paper's defaults are used (Wang et al. 2018: s = 64, m = 0.35).

It starts from the trained icartoonface-softmax embedding: with these s
and m a from-scratch network does not converge in the CPU-sized schedule
(README.md)."""

from __future__ import annotations

from pathlib import Path

from baselines.common.context import TrainContext
from baselines.common.faces import HeadConfig, predict_face_embeddings, train_face_embedding

NAME = "icartoonface-cosface"
HEAD = HeadConfig("cosface", scale=64.0, margin=0.35, start_from="icartoonface-softmax")


def train(ctx: TrainContext) -> None:
    train_face_embedding(ctx, NAME, HEAD)


def predict(input_dir: Path, output_dir: Path, checkpoint: Path | None) -> None:
    predict_face_embeddings(input_dir, output_dir, checkpoint)
