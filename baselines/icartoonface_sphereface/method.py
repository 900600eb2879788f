"""iCartoonFace embedding trained with a SphereFace head (A-Softmax, iCartoonFace eqs. 1-2).

m = 4, as SphereFace (Liu et al. 2017) trains its face models; λ eases the
margin in from plain softmax as the authors' released model does, on a
schedule rescaled to this run's steps (``SphereAnnealing.for_steps``).
It starts from the trained icartoonface-softmax embedding, like the other
margin heads (README.md)."""

from __future__ import annotations

from pathlib import Path

from baselines.common.context import TrainContext
from baselines.common.faces import HeadConfig, predict_face_embeddings, train_face_embedding

NAME = "icartoonface-sphereface"
HEAD = HeadConfig("sphereface", margin=4, start_from="icartoonface-softmax")


def train(ctx: TrainContext) -> None:
    train_face_embedding(ctx, NAME, HEAD)


def predict(input_dir: Path, output_dir: Path, checkpoint: Path | None) -> None:
    predict_face_embeddings(input_dir, output_dir, checkpoint)
