"""Trained baselines beat chance far beyond luck; metrics computed here from the manifest truth."""

from __future__ import annotations

import json
from math import comb

import numpy as np
import pytest

CLASSIFIERS = ["toonnet-resnet", "toonnet-ius", "toonnet-fin", "toonnet-npn", "illustration-cnn-svm", "illustration-cnn-svm-optimized"]
FACE_MODELS = ["icartoonface-softmax", "icartoonface-sphereface", "icartoonface-cosface", "icartoonface-arcface"]


def top1_accuracy(scores: np.ndarray, ids: list[str], truth: dict[str, str], classes: list[str]) -> float:
    predicted = np.argmax(scores, axis=1)
    expected = np.array([classes.index(truth[item_id]) for item_id in ids])
    return float(np.mean(predicted == expected))


def chance_reaches(hits: int, trials: int, chance: float) -> float:
    """P(X >= hits) for X ~ Binomial(trials, chance): how likely a scorer at chance does at least this well."""
    return sum(comb(trials, k) * chance**k * (1 - chance) ** (trials - k) for k in range(hits, trials + 1))


def rank1_accuracy(embeddings: np.ndarray, ids: list[str], identities: dict[str, str], probes: list[str], gallery: list[str]) -> float:
    """Brute force: each probe's most cosine-similar gallery image must share its identity."""
    row = {item_id: index for index, item_id in enumerate(ids)}
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    hits = 0
    for probe in probes:
        similarities = [float(unit[row[probe]] @ unit[row[candidate]]) for candidate in gallery]
        best = gallery[int(np.argmax(similarities))]
        hits += identities[best] == identities[probe]
    return hits / len(probes)


@pytest.mark.slow
@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classifier_top1_accuracy_is_far_beyond_chance(name: str, predicted) -> None:
    """One-sided binomial test at 0.1%: on the tiny ToonNet profile (72 test items, 12 classes) that is 15 hits,
    2.5 times chance; the plain ResNet, the weakest, gets 17 to 18 depending on the CPU's float paths."""
    built, output_dir = predicted(name)
    manifest = json.loads((output_dir.parent / "input" / "manifest.json").read_text())
    ids = [item["id"] for item in manifest["items"]]
    truth = {item.id: item.label for item in built.items}
    accuracy = top1_accuracy(np.load(output_dir / "scores.npy"), ids, truth, manifest["classes"])
    chance = 1.0 / len(manifest["classes"])
    hits = round(accuracy * len(ids))
    assert chance_reaches(hits, len(ids), chance) < 1e-3, f"{name}: top-1 accuracy {accuracy:.3f} vs chance {chance:.3f}"


@pytest.mark.slow
@pytest.mark.parametrize("name", FACE_MODELS)
def test_face_embedding_rank1_is_at_least_five_times_chance(name: str, predicted) -> None:
    built, output_dir = predicted(name)
    manifest = json.loads((output_dir.parent / "input" / "manifest.json").read_text())
    ids = [item["id"] for item in manifest["items"]]
    identities = {item.id: item.identity for item in built.items}
    gallery_identities = {identities[item_id] for item_id in built.roles.gallery}
    chance = 1.0 / len(gallery_identities)
    rank1 = rank1_accuracy(np.load(output_dir / "embeddings.npy"), ids, identities, built.roles.probes, built.roles.gallery)
    assert rank1 >= 5 * chance, f"{name}: rank-1 {rank1:.3f} vs chance {chance:.3f}"


def test_chance_tail_agrees_with_scipy() -> None:
    from scipy.stats import binom

    for hits in (0, 6, 15, 17, 72):
        assert chance_reaches(hits, 72, 1 / 12) == pytest.approx(binom.sf(hits - 1, 72, 1 / 12), rel=1e-9, abs=1e-300)
    assert chance_reaches(14, 72, 1 / 12) >= 1e-3 > chance_reaches(15, 72, 1 / 12)


def test_top1_reference_counts_ties_by_lowest_class_index() -> None:
    scores = np.array([[0.2, 0.2, 0.1], [0.0, 0.5, 0.9]], dtype=np.float32)
    assert top1_accuracy(scores, ["a", "b"], {"a": "x", "b": "z"}, ["x", "y", "z"]) == 1.0
