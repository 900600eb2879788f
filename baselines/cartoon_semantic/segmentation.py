"""The semantic module of Semantic-aware Cartoon Style Transfer (Bai, §3, eq. 3), scaled for a CPU.

The paper takes a pretrained U-Net from segmentation_models.pytorch and
compares its outputs on the photo and on the cartoonized photo. No
segmentation weights or labelled data can be had here, so a small U-Net is
trained, on the training photos only, to reproduce an unsupervised
segmentation of them: each pixel's class is its nearest of ``CLASSES``
k-means centres fitted to the photos' CIELAB colours. The network sees the
photos under random per-channel gain and offset, so what it learns to
predict from is the layout of regions more than their exact colours, as a
real segmentation network's would be. Frozen, its per-pixel class
probabilities are the "semantic location information" of eq. 3.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from sklearn.cluster import KMeans
from torch import nn
from tqdm import tqdm

from baselines.common.unpaired import adam, random_crops, step, to_uint8

CLASSES = 6
KMEANS_PIXELS = 20000
GAIN_SPREAD, OFFSET_SPREAD = 0.3, 0.2
LEARNING_RATE = 2e-3
BETAS = (0.9, 0.999)
SLOPE = 0.2


def lab_pixels(images: np.ndarray) -> np.ndarray:
    """uint8 RGB ``[N, H, W, 3]`` → float32 CIELAB pixels ``[N·H·W, 3]`` (OpenCV's 8-bit scale)."""
    return np.concatenate([cv2.cvtColor(image, cv2.COLOR_RGB2LAB).reshape(-1, 3) for image in images]).astype(np.float32)


def fit_classes(images: np.ndarray, seed: int) -> KMeans:
    """k-means (``CLASSES`` centres) on a seeded sample of the images' CIELAB pixels."""
    pixels = lab_pixels(images)
    sample = np.random.default_rng(seed).choice(len(pixels), min(KMEANS_PIXELS, len(pixels)), replace=False)
    return KMeans(CLASSES, n_init=4, random_state=seed).fit(pixels[sample])


def pseudo_labels(classes: KMeans, images: np.ndarray) -> torch.Tensor:
    """Each pixel's nearest centre: int64 ``[N, H, W]``."""
    labels = classes.predict(lab_pixels(images)).reshape(images.shape[:3])
    return torch.from_numpy(labels.astype(np.int64))


def block(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, padding=1), nn.LeakyReLU(SLOPE),
                         nn.Conv2d(out_channels, out_channels, 3, padding=1), nn.LeakyReLU(SLOPE))


class SegmentationUNet(nn.Module):
    """A two-level U-Net (Ronneberger et al.): image in [-1, 1] → ``[N, classes, H, W]`` logits."""

    def __init__(self, width: int = 8, classes: int = CLASSES) -> None:
        super().__init__()
        self.down0, self.down1, self.bottom = block(3, width), block(width, 2 * width), block(2 * width, 4 * width)
        self.up1, self.up0 = block(6 * width, 2 * width), block(3 * width, width)
        self.head = nn.Conv2d(width, classes, 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x0 = self.down0(images)
        x1 = self.down1(F.avg_pool2d(x0, 2, ceil_mode=True))
        x2 = self.bottom(F.avg_pool2d(x1, 2, ceil_mode=True))
        y1 = self.up1(torch.cat([F.interpolate(x2, size=x1.shape[-2:], mode="bilinear", align_corners=False), x1], 1))
        y0 = self.up0(torch.cat([F.interpolate(y1, size=x0.shape[-2:], mode="bilinear", align_corners=False), x0], 1))
        return self.head(y0)


def photometric_jitter(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Per-image, per-channel gain in 1 ± ``GAIN_SPREAD`` and offset in ± ``OFFSET_SPREAD`` (images in [-1, 1])."""
    count = len(images)
    gain = 1.0 + GAIN_SPREAD * (2.0 * torch.rand(count, 3, 1, 1, generator=generator) - 1.0)
    offset = OFFSET_SPREAD * (2.0 * torch.rand(count, 3, 1, 1, generator=generator) - 1.0)
    return (images * gain + offset).clamp(-1, 1)


def train_segmenter(photos: torch.Tensor, steps: int, batch_size: int, crop: int, seed: int, width: int) -> SegmentationUNet:
    """Fit the k-means classes to the photos, then train the U-Net on jittered crops to predict them; returns it frozen."""
    torch.manual_seed(seed)
    rng = torch.Generator().manual_seed(seed)
    classes = fit_classes(to_uint8(photos), seed)
    labelled = torch.cat([photos, pseudo_labels(classes, to_uint8(photos))[:, None].float()], dim=1)
    net = SegmentationUNet(width)
    optimizer = adam(net.parameters(), LEARNING_RATE, BETAS)
    for _ in tqdm(range(steps), desc="semantic module", leave=False):
        batch = random_crops(labelled, batch_size, crop, rng)
        images, labels = photometric_jitter(batch[:, :3], rng), batch[:, 3].long()
        step(optimizer, F.cross_entropy(net(images), labels))
    return net.requires_grad_(False).eval()


def semantic_loss(segmenter: SegmentationUNet, photo: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Eq. 3: mean L1 distance between the segmenter's class probabilities on G(I_p) and on I_p."""
    with torch.no_grad():
        target = segmenter(photo).softmax(dim=1)
    return (segmenter(fake).softmax(dim=1) - target).abs().mean()
