"""The iCartoonFace embedding network and its training with a softmax, CosFace or ArcFace head.

One architecture (a small ResNet trunk, a 128-d projection with batch norm)
is trained three times, once per head, on the train split's identities. The
face is the manifest box grown by half its size on each side (twice its
width and height, enlarged rate 1.0, so hair and headwear count), resized
to 48×48. The
embedding written for the evaluator is the L2-normalised sum of the
normalised embeddings of the face and its mirror image.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from baselines.common.context import TrainContext
from baselines.common.contract import read_input, write_embeddings
from baselines.common.images import load_images
from baselines.common.nets import EmbeddingNet, MarginHead
from baselines.common.training import FitSettings, fit, run_batches, seed_everything, to_tensor
from baselines.common.weights import load_checkpoint, save_checkpoint

FACE_SIZE = 48
FACE_MARGIN = 0.5
EMBEDDING_DIM = 128
NO_IDENTITY = "-1"


@dataclass(frozen=True)
class HeadConfig:
    kind: str
    scale: float = 30.0
    margin: float = 0.0
    epochs: int = 6
    tiny_epochs: int = 30
    lr: float = 3e-3


def train_face_embedding(ctx: TrainContext, name: str, head_config: HeadConfig, seed: int = 0) -> None:
    items = [item for item in ctx.built.train_items() if item.identity not in (None, NO_IDENTITY)]
    if not items:
        raise ValueError(f"{ctx.built.folder}: the train split has no items with an identity")
    identities = sorted({item.identity for item in items})
    lookup = {identity: index for index, identity in enumerate(identities)}
    images = load_images([Path(ctx.built.folder) / item.path for item in items], FACE_SIZE, [item.box for item in items], desc="train faces", margin=FACE_MARGIN)
    targets = torch.tensor([lookup[item.identity] for item in items], dtype=torch.long)
    seed_everything(seed)
    model = EmbeddingNet(EMBEDDING_DIM)
    head = MarginHead(head_config.kind, EMBEDDING_DIM, len(identities), head_config.scale, head_config.margin)
    both = torch.nn.ModuleList([model, head])
    epochs = head_config.tiny_epochs if ctx.profile == "tiny" else head_config.epochs
    settings = FitSettings(epochs, lr=head_config.lr)
    fit(both, to_tensor(images), targets, lambda x, _, y: F.cross_entropy(head(model(x), y), y), settings, seed, desc=name)
    save_checkpoint(
        ctx.checkpoint,
        {"baseline": name, "size": FACE_SIZE, "margin": FACE_MARGIN, "dim": EMBEDDING_DIM, "head": head_config.kind, "identities": len(identities), "state": model.state_dict()},
    )


def predict_face_embeddings(input_dir: Path, output_dir: Path, checkpoint: Path | None) -> None:
    if checkpoint is None:
        raise ValueError("face baselines need --checkpoint (train them with: python -m baselines train)")
    payload = load_checkpoint(checkpoint)
    model = EmbeddingNet(payload["dim"])
    model.load_state_dict(payload["state"])
    model.eval()
    manifest = read_input(input_dir)
    images = load_images([manifest.image_path(item) for item in manifest.items], payload["size"], [item.box for item in manifest.items], desc="faces", margin=payload["margin"])
    write_embeddings(output_dir, embed_faces(model, to_tensor(images)))


def embed_faces(model: EmbeddingNet, images: torch.Tensor) -> np.ndarray:
    def both_views(x: torch.Tensor, _: torch.Tensor | None) -> torch.Tensor:
        return F.normalize(F.normalize(model(x)) + F.normalize(model(x.flip(3))))

    return run_batches(both_views, images)
