"""The iCartoonFace embedding network and its training with a softmax, SphereFace, CosFace or ArcFace head.

One embedding (a small trunk, a 128-d projection with batch norm) is trained
once per head on the train split's identities, as the paper's Table 4
compares the four losses on one backbone. The trunk is a narrow ResNet or a
narrow DenseNet (two of Table 2's families; ``HeadConfig.backbone``). The
face is the manifest box grown by half its size on each side (twice its
width and height, enlarged rate 1.0, so hair and headwear count), resized
to 48×48. The embedding written for the evaluator is the L2-normalised sum
of the normalised embeddings of the face and its mirror image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from baselines.common.context import TrainContext
from baselines.common.contract import read_input, write_embeddings
from baselines.common.device import on_device
from baselines.common.images import load_images
from baselines.common.nets import EmbeddingNet, MarginHead, SphereAnnealing
from baselines.common.training import FitSettings, fit, run_batches, seed_everything, to_tensor
from baselines.common.weights import load_checkpoint, save_checkpoint

FACE_SIZE = 48
FACE_MARGIN = 0.5
EMBEDDING_DIM = 128
NO_IDENTITY = "-1"


@dataclass(frozen=True)
class HeadConfig:
    """One face baseline's recipe: its head (``MarginHead``'s kind, s and m), trunk and schedule.

    Every face baseline trains the same two stages, so none gets more
    epochs than another: a softmax warm-up, then ``epochs`` with its own
    head. With the papers' s and m a network trained from scratch with a
    margin head does not converge in a CPU-sized schedule, so the margin
    heads start from the softmax warm-up. The softmax baseline trains the
    warm-up itself (``warmup``), keeps it in its checkpoint and continues
    with softmax; the others name it in ``start_from`` and read that stage.
    """

    kind: str
    scale: float = 64.0
    margin: float = 0.0
    backbone: str = "resnet"
    start_from: str = ""
    warmup: bool = False
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
    # Read (and, when missing, train) the warm-up before seeding, so this network starts the same either way.
    start = warmup_state(ctx, head_config) if head_config.start_from else None
    seed_everything(seed)
    model = EmbeddingNet(EMBEDDING_DIM, head_config.backbone)
    epochs = head_config.tiny_epochs if ctx.profile == "tiny" else head_config.epochs
    settings = FitSettings(epochs, lr=head_config.lr)
    pixels = to_tensor(images)
    record = {"baseline": name, "size": FACE_SIZE, "margin": FACE_MARGIN, "dim": EMBEDDING_DIM,
              "backbone": head_config.backbone, "head": head_config.kind, "identities": len(identities)}
    if head_config.warmup:
        _fit_head(model, HeadConfig("softmax", backbone=head_config.backbone), len(identities), pixels, targets, settings, seed, f"{name} warm-up")
        record["warmup_state"] = {key: value.clone() for key, value in model.state_dict().items()}
    if start is not None:
        model.load_state_dict(start)
    _fit_head(model, head_config, len(identities), pixels, targets, settings, seed, name)
    save_checkpoint(ctx.checkpoint, {**record, "state": model.state_dict()})


def _fit_head(model: EmbeddingNet, head_config: HeadConfig, classes: int, pixels: torch.Tensor, targets: torch.Tensor,
              settings: FitSettings, seed: int, desc: str) -> None:
    """One stage: ``model`` trained under a fresh head of ``head_config``'s kind (SphereFace's λ spans the stage)."""
    steps = settings.epochs * math.ceil(len(targets) / settings.batch_size)
    head = MarginHead(head_config.kind, EMBEDDING_DIM, classes, head_config.scale, head_config.margin, SphereAnnealing().for_steps(steps))
    both = torch.nn.ModuleList([model, head])
    fit(both, pixels, targets, lambda x, _, y: F.cross_entropy(head(model(x), y), y), settings, seed, desc=desc)


def warmup_state(ctx: TrainContext, head_config: HeadConfig) -> dict[str, torch.Tensor]:
    """The softmax warm-up kept by ``head_config.start_from`` on the same protocol, which must share the backbone."""
    path = ctx.require(head_config.start_from)
    payload = load_checkpoint(path)
    if payload.get("backbone", "resnet") != head_config.backbone:
        raise ValueError(f"{path}: {head_config.start_from} has a {payload.get('backbone', 'resnet')} backbone, not {head_config.backbone}")
    if "warmup_state" not in payload:
        raise ValueError(f"{path}: {head_config.start_from} keeps no warm-up stage; train it again")
    return payload["warmup_state"]


def predict_face_embeddings(input_dir: Path, output_dir: Path, checkpoint: Path | None) -> None:
    if checkpoint is None:
        raise ValueError("face baselines need --checkpoint (train them with: python -m baselines train)")
    payload = load_checkpoint(checkpoint)
    model = EmbeddingNet(payload["dim"], payload.get("backbone", "resnet"))
    model.load_state_dict(payload["state"])
    on_device(model).eval()
    manifest = read_input(input_dir)
    images = load_images([manifest.image_path(item) for item in manifest.items], payload["size"], [item.box for item in manifest.items], desc="faces", margin=payload["margin"])
    write_embeddings(output_dir, embed_faces(model, to_tensor(images)))


def embed_faces(model: EmbeddingNet, images: torch.Tensor) -> np.ndarray:
    def both_views(x: torch.Tensor, _: torch.Tensor | None) -> torch.Tensor:
        return F.normalize(F.normalize(model(x)) + F.normalize(model(x.flip(3))))

    return run_batches(both_views, images)
