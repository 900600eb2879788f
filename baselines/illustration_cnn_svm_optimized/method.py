"""Lagunas & Garces, optimized network: low layers re-learned faster, then the SVM.

Starting from the plain baseline's CNN, the low layers (stem and first
stage) are re-initialised and trained at a learning rate ten times that of
the upper layers, which are fine-tuned gently; the SVM stage follows as in
the plain baseline.
"""

from __future__ import annotations

from pathlib import Path

import torch.nn.functional as F

from baselines.common.classify import IMAGE_SIZE, build_resnet, split_arrays
from baselines.common.context import TrainContext
from baselines.common.nets import reset_parameters
from baselines.common.training import FitSettings, class_indices, fit, seed_everything, to_tensor
from baselines.common.weights import load_checkpoint
from baselines.illustration_cnn_svm.method import predict as predict_cnn_svm
from baselines.illustration_cnn_svm.method import save_svm_checkpoint

NAME = "illustration-cnn-svm-optimized"
SEED = 1
EPOCHS = {"default": 5, "tiny": 8}
LOW_LR = 3e-3
UPPER_LR = 3e-4


def train(ctx: TrainContext) -> None:
    classes = list(ctx.built.spec.classes)
    images, labels = split_arrays(ctx.built, "train", IMAGE_SIZE)
    targets = class_indices(labels, classes)
    seed_everything(SEED)
    model = build_resnet(load_checkpoint(ctx.require("illustration-cnn-svm")))
    low = [p for layer in model.low_layers() for p in layer.parameters()]
    low_ids = {id(p) for p in low}
    for layer in model.low_layers():
        reset_parameters(layer, SEED)
    upper = [p for p in model.parameters() if id(p) not in low_ids]
    groups = [{"params": low, "lr": LOW_LR}, {"params": upper, "lr": UPPER_LR}]
    settings = FitSettings(EPOCHS.get(ctx.profile, EPOCHS["default"]))
    fit(model, to_tensor(images), targets, lambda x, _, y: F.cross_entropy(model(x), y), settings, SEED, param_groups=groups, desc=NAME)
    save_svm_checkpoint(ctx.checkpoint, NAME, classes, model, images, targets.numpy())


def predict(input_dir: Path, output_dir: Path, checkpoint: Path | None) -> None:
    predict_cnn_svm(input_dir, output_dir, checkpoint)
