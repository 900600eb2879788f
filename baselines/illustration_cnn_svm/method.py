"""Lagunas & Garces §6.1, Baseline VGG19 + SVM: fc7 features of VGG19, one-vs-rest RBF SVMs chosen by 3-fold CV.

With ImageNet VGG19 weights configured (``baselines.common.vgg.weights_file``)
the network is torchvision's full VGG19 holding them, frozen, as in the paper.
Without them (the offline default) a width-scaled VGG19 with batch norm
(``SHAPE``) is trained from scratch on the train split, then frozen; the
checkpoint's ``weights`` field then reads "no ImageNet weights".
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch.nn.functional as F

from baselines.common.classify import input_arrays, split_arrays
from baselines.common.context import TrainContext
from baselines.common.contract import read_input, reorder_columns, write_scores
from baselines.common.device import on_device
from baselines.common.training import FitSettings, class_indices, fit, run_batches, seed_everything
from baselines.common.vgg import Vgg19, VggShape, load_vgg19, vgg_tensor, weights_file
from baselines.common.weights import load_checkpoint, save_checkpoint
from baselines.illustration_cnn_svm.svm import fit_svm, svm_scores

NAME = "illustration-cnn-svm"
SEED = 0
IMAGE_SIZE = 48
PRETRAINED_SIZE = 112
SHAPE = VggShape(divisor=8, fc_width=512, pool=1)
SETTINGS = {"default": FitSettings(16, batch_size=16), "tiny": FitSettings(40, batch_size=16)}
NO_WEIGHTS = "no ImageNet weights"


def train(ctx: TrainContext) -> None:
    classes = list(ctx.built.spec.classes)
    weights = weights_file()
    size = PRETRAINED_SIZE if weights else IMAGE_SIZE
    images, labels = split_arrays(ctx.built, "train", size)
    targets = class_indices(labels, classes)
    seed_everything(SEED)
    if weights:
        model = load_vgg19(weights, len(classes))
    else:
        model = Vgg19(len(classes), SHAPE)
        settings = SETTINGS.get(ctx.profile, SETTINGS["default"])
        fit(model, vgg_tensor(images), targets, lambda x, _, y: F.cross_entropy(model(x), y), settings, SEED, desc=NAME)
    source = f"ImageNet weights from {weights.name}" if weights else NO_WEIGHTS
    save_svm_checkpoint(ctx.checkpoint, {"baseline": NAME, "classes": classes, "size": size, "weights": source}, model, images, targets.numpy(), "rbf")


def fc7_features(model: Vgg19, images: np.ndarray) -> np.ndarray:
    """The frozen network's post-ReLU fc7 activations of uint8 images."""
    model.eval()
    return run_batches(lambda x, _: model.fc7(x), vgg_tensor(images))


def save_svm_checkpoint(path: Path, header: dict[str, Any], model: Vgg19, images: np.ndarray, targets: np.ndarray, kernel: str) -> None:
    """Select and fit the SVM on the train images' fc7 features; save network and SVM together."""
    svm = fit_svm(fc7_features(model, images), targets, kernel)
    save_checkpoint(path, {**header, "shape": asdict(model.shape), "state": model.state_dict(), **svm})


def build_model(payload: dict[str, Any]) -> Vgg19:
    """The stored network; its fc8 has as many outputs as the classes it was trained on (the noisy set's, when adapted)."""
    model = Vgg19(payload["state"]["classifier.6.weight"].shape[0], VggShape(**payload["shape"]))
    model.load_state_dict(payload["state"])
    return on_device(model).eval()


def predict(input_dir: Path, output_dir: Path, checkpoint: Path | None) -> None:
    if checkpoint is None:
        raise ValueError(f"{NAME} needs --checkpoint (train it with: python -m baselines train)")
    payload = load_checkpoint(checkpoint)
    manifest = read_input(input_dir)
    features = fc7_features(build_model(payload), input_arrays(manifest, payload["size"]))
    write_scores(output_dir, reorder_columns(svm_scores(features, payload), payload["classes"], manifest.classes))
