"""ToonNet + FIN: a colour histogram fed into the pre-logits layer.

An n-bin joint RGB histogram of the whole image goes through a small 1-D
convolution and an extra fully connected layer; its output is concatenated
with the CNN's pooled features before the final classifier.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from baselines.common.classify import BLOCKS, IMAGE_SIZE, WIDTHS, input_arrays, split_arrays
from baselines.common.context import TrainContext
from baselines.common.contract import read_input, reorder_columns, write_scores
from baselines.common.images import rgb_histograms
from baselines.common.nets import NarrowResNet
from baselines.common.training import FitSettings, class_indices, fit, run_batches, seed_everything, to_tensor
from baselines.common.weights import load_checkpoint, save_checkpoint

NAME = "toonnet-fin"
SEED = 0
EPOCHS = {"default": 8, "tiny": 10}
BINS = 4
HIST_CHANNELS = 4
HIST_FEATURES = 64


class FINNet(nn.Module):
    def __init__(self, num_classes: int, bins: int = BINS, widths: tuple[int, ...] = WIDTHS, blocks: tuple[int, ...] = BLOCKS) -> None:
        super().__init__()
        self.cnn = NarrowResNet(0, widths, blocks)
        self.hist_conv = nn.Sequential(nn.Conv1d(1, HIST_CHANNELS, kernel_size=3, padding=1), nn.ReLU(inplace=True))
        self.hist_fc = nn.Sequential(nn.Linear(HIST_CHANNELS * bins**3, HIST_FEATURES), nn.ReLU(inplace=True))
        self.classifier = nn.Linear(self.cnn.feature_dim + HIST_FEATURES, num_classes)

    def forward(self, images: torch.Tensor, histograms: torch.Tensor) -> torch.Tensor:
        # Histograms sum to 1 over many bins; scaling by the bin count keeps them near unit size.
        colour = self.hist_fc(self.hist_conv(histograms[:, None] * histograms.shape[1]).flatten(1))
        return self.classifier(torch.cat([self.cnn.features(images), colour], dim=1))


def train(ctx: TrainContext) -> None:
    classes = list(ctx.built.spec.classes)
    images, labels = split_arrays(ctx.built, "train", IMAGE_SIZE)
    histograms = torch.from_numpy(rgb_histograms(images, BINS))
    seed_everything(SEED)
    model = FINNet(len(classes))
    settings = FitSettings(EPOCHS.get(ctx.profile, EPOCHS["default"]))
    targets = class_indices(labels, classes)
    fit(model, to_tensor(images), targets, lambda x, h, y: F.cross_entropy(model(x, h), y), settings, SEED, extras=histograms, desc=NAME)
    save_checkpoint(ctx.checkpoint, {"baseline": NAME, "classes": classes, "size": IMAGE_SIZE, "bins": BINS, "state": model.state_dict()})


def predict(input_dir: Path, output_dir: Path, checkpoint: Path | None) -> None:
    if checkpoint is None:
        raise ValueError(f"{NAME} needs --checkpoint (train it with: python -m baselines train)")
    payload = load_checkpoint(checkpoint)
    model = FINNet(len(payload["classes"]), payload["bins"])
    model.load_state_dict(payload["state"])
    model.eval()
    manifest = read_input(input_dir)
    images = input_arrays(manifest, payload["size"])
    histograms = torch.from_numpy(rgb_histograms(images, payload["bins"]))
    scores = run_batches(lambda x, h: torch.softmax(model(x, h), dim=1), to_tensor(images), histograms)
    write_scores(output_dir, reorder_columns(scores, payload["classes"], manifest.classes))
