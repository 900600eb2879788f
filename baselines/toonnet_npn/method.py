"""ToonNet + NPN-3 (ToonNet paper §4.3, Fig. 8, Table 3).

Pre-training part: three networks trained on the same IUS inputs, then
frozen, that differ as the paper's R-101 / G-v3 / G-v3-FIN do — in core
family, in colour space and in FIN:

- ``toonnet-ius``: ResNet, RGB, no FIN (reused checkpoint);
- ``toonnet-fin``: ResNet, RGB, with FIN (reused checkpoint);
- a small GoogLeNet (torchvision Inception blocks) reading HSV, no FIN.

Training part (``toonnet_nets.NPNHead``): each member's pre-logits mapped to
one width, stacked m×d, an m×1 convolution and a final fully connected
layer, trained on the frozen members' pre-logits with the §5 schedule. The
checkpoint holds the members' weights too, so the container needs nothing else.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from baselines.common.context import TrainContext
from baselines.common.device import on_device
from baselines.common.contract import read_input, reorder_columns, write_scores
from baselines.common.toonnet_nets import NPNHead, ToonNetMember
from baselines.common.toonnet_training import MemberConfig, fit_step, load_member, member_outputs, paper_schedule, train_member
from baselines.common.training import class_indices, run_batches, seed_everything
from baselines.common.weights import load_checkpoint, save_checkpoint
from baselines.toonnet_ius.inputs import ToonInputs, manifest_inputs, train_inputs

NAME = "toonnet-npn"
SEED = 0
REUSED_MEMBERS = ("toonnet-ius", "toonnet-fin")
NEW_MEMBERS = (MemberConfig(arch="inception", space="hsv", fin=False, ius=True, seed=1),)

Member = tuple[MemberConfig, ToonNetMember]


def member_features(members: list[Member], inputs: ToonInputs) -> torch.Tensor:
    """The frozen members' pre-logits, concatenated in member order: ``[N, sum(d_i)]``."""
    return torch.from_numpy(np.concatenate([member_outputs(config, model, inputs, prelogits=True) for config, model in members], axis=1))


def build_head(members: list[Member], num_classes: int) -> NPNHead:
    if not all(config.ius for config, _ in members):
        raise ValueError("NPN members all read IUS inputs (Fig. 8)")
    return NPNHead([model.prelogits_dim for _, model in members], num_classes)


def train(ctx: TrainContext) -> None:
    classes = list(ctx.built.spec.classes)
    inputs, labels = train_inputs(ctx.built, ius=True)
    targets = class_indices(labels, classes)
    payloads = [_member_payload(load_checkpoint(ctx.require(name)), classes) for name in REUSED_MEMBERS]
    schedule = paper_schedule(ctx.profile)
    payloads += [train_member(config, inputs, targets, classes, schedule, f"{NAME} member") for config in NEW_MEMBERS]
    members = [load_member(payload) for payload in payloads]
    features = member_features(members, inputs)
    seed_everything(SEED)
    head = build_head(members, len(classes))
    fit_step(head, features, None, targets, replace(schedule, augment=False), SEED, f"{NAME} head")
    save_checkpoint(ctx.checkpoint, {"baseline": NAME, "classes": classes, "members": payloads, "head": head.state_dict()})


def _member_payload(payload: dict[str, Any], classes: list[str]) -> dict[str, Any]:
    if payload.get("classes") != classes:
        raise ValueError(f"{payload.get('baseline')}: trained on other classes than this benchmark's")
    return {key: payload.get(key) for key in ("config", "classes", "state")}


def predict(input_dir: Path, output_dir: Path, checkpoint: Path | None) -> None:
    if checkpoint is None:
        raise ValueError(f"{NAME} needs --checkpoint (train it with: python -m baselines train)")
    payload = load_checkpoint(checkpoint)
    members = [load_member(member) for member in payload["members"]]
    head = build_head(members, len(payload["classes"]))
    head.load_state_dict(payload["head"])
    on_device(head).eval()
    manifest = read_input(input_dir)
    features = member_features(members, manifest_inputs(manifest, ius=True))
    scores = run_batches(lambda f, _: torch.softmax(head(f), dim=1), features)
    write_scores(output_dir, reorder_columns(scores, payload["classes"], manifest.classes))
