"""Building blocks of the baselines against independent references."""

from __future__ import annotations

import math

import cv2
import numpy as np
import torch

from baselines.cartoon_whitebox_classical.whitebox import cartoonize, guided_filter
from baselines.common.images import crop_face
from baselines.common.nets import MarginHead


def test_guided_filter_matches_a_brute_force_window_computation() -> None:
    rng = np.random.default_rng(0)
    guide = rng.random((12, 14)).astype(np.float32)
    source = rng.random((12, 14)).astype(np.float32)
    radius, eps = 2, 0.01
    padded = lambda a: np.pad(a, radius, mode="symmetric")  # noqa: E731  (cv2 BORDER_REFLECT)
    def window_mean(a: np.ndarray) -> np.ndarray:
        p = padded(a)
        return np.array([[p[y : y + 2 * radius + 1, x : x + 2 * radius + 1].mean() for x in range(a.shape[1])] for y in range(a.shape[0])])
    mean_i, mean_p = window_mean(guide), window_mean(source)
    a = (window_mean(guide * source) - mean_i * mean_p) / (window_mean(guide * guide) - mean_i**2 + eps)
    b = mean_p - a * mean_i
    expected = window_mean(a) * guide + window_mean(b)
    assert np.allclose(guided_filter(guide, source, radius, eps), expected, atol=1e-4)


def test_whitebox_cartoon_has_fewer_colours_and_the_same_size() -> None:
    photo = cv2.GaussianBlur(np.random.default_rng(0).integers(0, 256, (64, 80, 3), dtype=np.uint8), (7, 7), 2)
    cartoon = cartoonize(photo)
    assert cartoon.shape == photo.shape and cartoon.dtype == np.uint8
    assert len(np.unique(cartoon.reshape(-1, 3), axis=0)) < len(np.unique(photo.reshape(-1, 3), axis=0)) / 2


def test_face_crop_grows_the_box_by_the_margin_and_clips_to_the_image() -> None:
    image = np.arange(100 * 80 * 3, dtype=np.uint8).reshape(100, 80, 3)
    assert crop_face(image, (20, 30, 60, 70), margin=0.1).shape == (48, 48, 3)
    assert crop_face(image, (0, 0, 80, 100), margin=0.1).shape == (100, 80, 3)


def test_cosface_and_arcface_logits_follow_their_formulas() -> None:
    torch.manual_seed(0)
    embeddings, labels = torch.randn(5, 8), torch.tensor([0, 1, 2, 3, 0])
    cosface = MarginHead("cosface", 8, 4, scale=30.0, margin=0.35)
    arcface = MarginHead("arcface", 8, 4, scale=30.0, margin=0.5)
    arcface.weight.data.copy_(cosface.weight.data)
    x = embeddings.numpy() / np.linalg.norm(embeddings.numpy(), axis=1, keepdims=True)
    w = cosface.weight.detach().numpy() / np.linalg.norm(cosface.weight.detach().numpy(), axis=1, keepdims=True)
    cosine = x @ w.T
    expected_cos, expected_arc = 30 * cosine.copy(), 30 * cosine.copy()
    for row, label in enumerate(labels.tolist()):
        expected_cos[row, label] = 30 * (cosine[row, label] - 0.35)
        theta = math.acos(cosine[row, label])
        expected_arc[row, label] = 30 * (math.cos(theta + 0.5) if theta + 0.5 < math.pi else cosine[row, label] - 0.5 * math.sin(0.5))
    assert np.allclose(cosface(embeddings, labels).detach().numpy(), expected_cos, atol=1e-4)
    assert np.allclose(arcface(embeddings, labels).detach().numpy(), expected_arc, atol=1e-4)
