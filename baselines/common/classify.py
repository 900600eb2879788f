"""The plain CNN classifier most classification baselines start from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from baselines.common.context import TrainContext
from baselines.common.contract import InputManifest, read_input, reorder_columns, write_scores
from baselines.common.images import ImageTransform, load_images
from baselines.common.nets import NarrowResNet
from baselines.common.training import FitSettings, class_indices, fit, run_batches, seed_everything, to_tensor
from baselines.common.weights import load_checkpoint, save_checkpoint

IMAGE_SIZE = 48
WIDTHS = (16, 32, 64, 128)
BLOCKS = (1, 1, 1, 1)


def split_arrays(built: Any, split: str, size: int, transform: ImageTransform | None = None) -> tuple[np.ndarray, list[str]]:
    """A built benchmark's train or test images (uint8, resized) and their class names."""
    items = built.train_items() if split == "train" else built.test_items()
    paths = [Path(built.folder) / item.path for item in items]
    images = load_images(paths, size, transform=transform, desc=f"{built.spec.slug} {split} images")
    return images, [str(item.label) for item in items]


def input_arrays(manifest: InputManifest, size: int, transform: ImageTransform | None = None) -> np.ndarray:
    paths = [manifest.image_path(item) for item in manifest.items]
    return load_images(paths, size, transform=transform, desc="input images")


def train_resnet(
    images: np.ndarray,
    targets: torch.Tensor,
    num_classes: int,
    seed: int,
    settings: FitSettings,
    widths: tuple[int, ...] = WIDTHS,
    blocks: tuple[int, ...] = BLOCKS,
    desc: str = "cnn",
) -> NarrowResNet:
    seed_everything(seed)
    model = NarrowResNet(num_classes, widths, blocks)
    fit(model, to_tensor(images), targets, lambda x, _, y: F.cross_entropy(model(x), y), settings, seed, desc=desc)
    return model


def build_resnet(payload: dict[str, Any]) -> NarrowResNet:
    model = NarrowResNet(len(payload["classes"]), tuple(payload["widths"]), tuple(payload["blocks"]))
    model.load_state_dict(payload["state"])
    return model.eval()


def train_plain_cnn(ctx: TrainContext, name: str, epochs: int, seed: int = 0, transform: ImageTransform | None = None) -> None:
    """Train a ResNet on the train split (optionally on transformed inputs) and save it."""
    classes = list(ctx.built.spec.classes)
    images, labels = split_arrays(ctx.built, "train", IMAGE_SIZE, transform)
    model = train_resnet(images, class_indices(labels, classes), len(classes), seed, FitSettings(epochs), desc=name)
    save_checkpoint(
        ctx.checkpoint,
        {"baseline": name, "classes": classes, "size": IMAGE_SIZE, "widths": WIDTHS, "blocks": BLOCKS, "state": model.state_dict()},
    )


def predict_plain_cnn(input_dir: Path, output_dir: Path, checkpoint: Path, transform: ImageTransform | None = None) -> None:
    """Softmax scores of a saved ResNet, columns in the manifest's class order."""
    payload = load_checkpoint(checkpoint)
    model = build_resnet(payload)
    manifest = read_input(input_dir)
    images = to_tensor(input_arrays(manifest, payload["size"], transform))
    scores = run_batches(lambda x, _: torch.softmax(model(x), dim=1), images)
    write_scores(output_dir, reorder_columns(scores, payload["classes"], manifest.classes))
