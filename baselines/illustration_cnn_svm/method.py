"""Lagunas & Garces, CNN+SVM: penultimate-layer CNN features classified by an RBF SVM.

The paper takes features from an ImageNet VGG19; offline, the CNN is a small
ResNet trained from scratch on the train split, then frozen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from baselines.common.classify import BLOCKS, IMAGE_SIZE, WIDTHS, build_resnet, input_arrays, split_arrays, train_resnet
from baselines.common.context import TrainContext
from baselines.common.contract import read_input, reorder_columns, write_scores
from baselines.common.nets import NarrowResNet
from baselines.common.training import FitSettings, class_indices, run_batches, to_tensor
from baselines.common.weights import load_checkpoint, save_checkpoint
from baselines.illustration_cnn_svm.svm import fit_svm, svm_scores

NAME = "illustration-cnn-svm"
SEED = 0
EPOCHS = {"default": 8, "tiny": 10}


def train(ctx: TrainContext) -> None:
    classes = list(ctx.built.spec.classes)
    images, labels = split_arrays(ctx.built, "train", IMAGE_SIZE)
    targets = class_indices(labels, classes)
    model = train_resnet(images, targets, len(classes), SEED, FitSettings(EPOCHS.get(ctx.profile, EPOCHS["default"])), desc=NAME)
    save_svm_checkpoint(ctx.checkpoint, NAME, classes, model, images, targets.numpy())


def save_svm_checkpoint(path: Path, name: str, classes: list[str], model: NarrowResNet, images: Any, targets: Any) -> None:
    """Fit the SVM on the frozen CNN's train features and save CNN and SVM together."""
    features = run_batches(lambda x, _: model.features(x), to_tensor(images))
    save_checkpoint(
        path,
        {"baseline": name, "classes": classes, "size": IMAGE_SIZE, "widths": WIDTHS, "blocks": BLOCKS, "state": model.state_dict(), **fit_svm(features, targets)},
    )


def predict(input_dir: Path, output_dir: Path, checkpoint: Path | None) -> None:
    if checkpoint is None:
        raise ValueError(f"{NAME} needs --checkpoint (train it with: python -m baselines train)")
    payload = load_checkpoint(checkpoint)
    model = build_resnet(payload)
    manifest = read_input(input_dir)
    features = run_batches(lambda x, _: model.features(x), to_tensor(input_arrays(manifest, payload["size"])))
    write_scores(output_dir, reorder_columns(svm_scores(features, payload), payload["classes"], manifest.classes))
