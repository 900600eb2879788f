"""ToonNet + NPN-m: m frozen networks' pre-logits combined by an m×1 convolution.

The paper stacks the pre-logits of m ImageNet-pretrained networks. No
pretrained weights are available offline, so the m members here are small
ResNets of different widths and seeds trained on the train split (the first
one is the plain ``toonnet-resnet``), then frozen. Each member's features are
mapped to a common width d, stacked into an m×d map, mixed across members
by an m×1 convolution and classified by a final fully connected layer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from baselines.common.classify import IMAGE_SIZE, build_resnet, input_arrays, split_arrays, train_resnet
from baselines.common.context import TrainContext
from baselines.common.contract import read_input, reorder_columns, write_scores
from baselines.common.nets import NarrowResNet
from baselines.common.training import FitSettings, class_indices, fit, run_batches, seed_everything, to_tensor
from baselines.common.weights import load_checkpoint, save_checkpoint

NAME = "toonnet-npn"
SEED = 0
MEMBER_EPOCHS = {"default": 6, "tiny": 10}
HEAD_EPOCHS = {"default": 40, "tiny": 40}
EXTRA_MEMBERS = (
    {"seed": 1, "widths": (12, 24, 48, 96), "blocks": (1, 1, 1, 1)},
    {"seed": 2, "widths": (16, 32, 48, 64), "blocks": (1, 1, 1, 1)},
)
WIDTH = 64
MIX_CHANNELS = 8


class NPNHead(nn.Module):
    def __init__(self, member_dims: list[int], num_classes: int, width: int = WIDTH, mix_channels: int = MIX_CHANNELS) -> None:
        super().__init__()
        self.maps = nn.ModuleList(nn.Linear(dim, width) for dim in member_dims)
        self.mix = nn.Conv2d(1, mix_channels, kernel_size=(len(member_dims), 1))
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(mix_channels * width, num_classes))
        self.member_dims = list(member_dims)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        parts = torch.split(features, self.member_dims, dim=1)
        stacked = torch.stack([mapping(part) for mapping, part in zip(self.maps, parts)], dim=1)
        return self.classifier(F.relu(self.mix(stacked[:, None])).flatten(1))


def member_features(members: list[NarrowResNet], images: torch.Tensor) -> torch.Tensor:
    """Concatenated pre-logits of the frozen members: ``[N, sum(dims)]``."""
    return torch.from_numpy(np.concatenate([run_batches(lambda x, _: m.features(x), images) for m in members], axis=1))


def train(ctx: TrainContext) -> None:
    classes = list(ctx.built.spec.classes)
    images, labels = split_arrays(ctx.built, "train", IMAGE_SIZE)
    targets = class_indices(labels, classes)
    member_payloads = [_member_payload(load_checkpoint(ctx.require("toonnet-resnet")))]
    for config in EXTRA_MEMBERS:
        settings = FitSettings(MEMBER_EPOCHS.get(ctx.profile, MEMBER_EPOCHS["default"]))
        model = train_resnet(images, targets, len(classes), config["seed"], settings, config["widths"], config["blocks"], desc=f"{NAME} member")
        member_payloads.append({"classes": classes, "widths": config["widths"], "blocks": config["blocks"], "state": model.state_dict()})
    members = [build_resnet(payload) for payload in member_payloads]
    features = member_features(members, to_tensor(images))
    seed_everything(SEED)
    head = NPNHead([m.feature_dim for m in members], len(classes))
    settings = FitSettings(HEAD_EPOCHS.get(ctx.profile, HEAD_EPOCHS["default"]), batch_size=128, lr=3e-3, augment=False)
    fit(head, features, targets, lambda f, _, y: F.cross_entropy(head(f), y), settings, SEED, desc=f"{NAME} head")
    save_checkpoint(ctx.checkpoint, {"baseline": NAME, "classes": classes, "size": IMAGE_SIZE, "members": member_payloads, "head": head.state_dict()})


def _member_payload(payload: dict[str, Any]) -> dict[str, Any]:
    return {key: payload[key] for key in ("classes", "widths", "blocks", "state")}


def predict(input_dir: Path, output_dir: Path, checkpoint: Path | None) -> None:
    if checkpoint is None:
        raise ValueError(f"{NAME} needs --checkpoint (train it with: python -m baselines train)")
    payload = load_checkpoint(checkpoint)
    members = [build_resnet(member) for member in payload["members"]]
    head = NPNHead([m.feature_dim for m in members], len(payload["classes"]))
    head.load_state_dict(payload["head"])
    head.eval()
    manifest = read_input(input_dir)
    features = member_features(members, to_tensor(input_arrays(manifest, payload["size"])))
    scores = run_batches(lambda f, _: torch.softmax(head(f), dim=1), features)
    write_scores(output_dir, reorder_columns(scores, payload["classes"], manifest.classes))
