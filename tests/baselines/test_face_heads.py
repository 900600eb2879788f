"""The face heads' logits and losses against iCartoonFace eqs. 1-6, written out in numpy.

Each expected value is computed from the paper's formulas on a small
weight/feature matrix, independently of the head's code: cos θ by eqs. 4/6,
ψ by eq. 2 with ``np.cos(m θ)`` and the piece index k read off θ, and the loss
as the mean negative log of eq. 1's, 3's or 5's fraction.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from baselines.common.nets import BACKBONES, EmbeddingNet, MarginHead, NarrowDenseNet, SphereAnnealing, sphere_psi

DIM, CLASSES = 6, 4


def case(kind: str, scale: float = 64.0, margin: float = 0.35, annealing: SphereAnnealing | None = None) -> tuple[MarginHead, np.ndarray, np.ndarray, np.ndarray]:
    """A head with seeded weights, 5 embeddings of unequal norms and their labels (numpy copies of all three)."""
    torch.manual_seed(3)
    head = MarginHead(kind, DIM, CLASSES, scale=scale, margin=margin, annealing=annealing)
    embeddings = torch.randn(5, DIM) * torch.tensor([[0.5], [1.0], [2.0], [3.0], [7.0]])
    labels = np.array([0, 1, 2, 3, 1])
    return head, head.weight.detach().numpy().astype(np.float64), embeddings.numpy().astype(np.float64), labels


def cosines(weights: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
    """Eqs. 4 and 6: cos θ_j,i = W_j·x_i with W_j and x_i normalised."""
    w = weights / np.linalg.norm(weights, axis=1, keepdims=True)
    x = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    return x @ w.T


def psi(theta: np.ndarray, m: int) -> np.ndarray:
    """Eq. 2: ψ(θ) = (-1)^k cos(mθ) - 2k on θ ∈ [kπ/m, (k+1)π/m]."""
    k = np.minimum(np.floor(theta * m / np.pi), m - 1)
    return (-1.0) ** k * np.cos(m * theta) - 2 * k


def margin_loss(target: np.ndarray, others: np.ndarray, labels: np.ndarray) -> float:
    """Mean of -log(e^target / (e^target + Σ_{j≠y} e^other_j)), the shape of eqs. 1, 3 and 5."""
    rows = np.arange(len(labels))
    mask = np.ones_like(others, dtype=bool)
    mask[rows, labels] = False
    rest = np.where(mask, np.exp(others), 0.0).sum(axis=1)
    return float(np.mean(-np.log(np.exp(target) / (np.exp(target) + rest))))


@torch.no_grad()
def logits_of(head: MarginHead, embeddings: np.ndarray, labels: np.ndarray) -> torch.Tensor:
    return head(torch.from_numpy(embeddings).float(), torch.from_numpy(labels))


def loss_of(logits: torch.Tensor, labels: np.ndarray) -> float:
    return float(F.cross_entropy(logits.double(), torch.from_numpy(labels)))


def test_softmax_logits_are_the_affine_map() -> None:
    head, weights, x, labels = case("softmax")
    head.bias.data.copy_(torch.tensor([0.5, -1.0, 0.0, 2.0]))
    expected = x @ weights.T + np.array([0.5, -1.0, 0.0, 2.0])
    assert np.allclose(logits_of(head, x, labels).numpy(), expected, atol=1e-5)


def test_sphereface_logits_and_loss_follow_eqs_1_and_2() -> None:
    head, weights, x, labels = case("sphereface", margin=4)
    cos = cosines(weights, x)
    norms = np.linalg.norm(x, axis=1)
    rows = np.arange(len(labels))
    theta_y = np.arccos(cos[rows, labels])
    assert len(set(np.minimum(np.floor(theta_y * 4 / np.pi), 3))) >= 2, "the case should span several pieces of ψ"
    expected = norms[:, None] * cos
    expected[rows, labels] = norms * psi(theta_y, 4)
    logits = logits_of(head, x, labels)
    assert np.allclose(logits.numpy(), expected, atol=1e-4)
    assert loss_of(logits, labels) == pytest.approx(margin_loss(expected[rows, labels], expected, labels), rel=1e-4)


def test_sphereface_anneals_lambda_into_the_true_class_logit_while_training() -> None:
    annealing = SphereAnnealing()
    head, weights, x, labels = case("sphereface", margin=4, annealing=annealing)
    head.train()
    cos = cosines(weights, x)
    rows = np.arange(len(labels))
    norms = np.linalg.norm(x, axis=1)
    for step in range(3):
        lam = max(5.0, 1000.0 * (1 + 0.12 * step) ** -1)
        expected = norms * (lam * cos[rows, labels] + psi(np.arccos(cos[rows, labels]), 4)) / (1 + lam)
        logits = logits_of(head, x, labels).numpy()
        assert np.allclose(logits[rows, labels], expected, atol=1e-4)
    assert int(head.step) == 3
    head.eval()
    logits_of(head, x, labels)
    assert int(head.step) == 3, "evaluation does not advance the schedule"


def test_the_rescaled_annealing_reaches_lambda_min_at_the_same_share_of_training() -> None:
    reference = SphereAnnealing()
    short = reference.for_steps(280)
    assert reference.at(0) == short.at(0) == 1000.0
    assert short.at(280) == 5.0
    for step in (1, 3, 10):  # step t of 280 is step 100 t of the authors' 28,000
        assert short.at(step) == pytest.approx(reference.at(100 * step), rel=1e-9)


def test_psi_decreases_monotonically_and_continuously_over_zero_to_pi() -> None:
    theta = np.linspace(1e-4, math.pi - 1e-4, 20_001)
    values = sphere_psi(torch.from_numpy(np.cos(theta)), 4).numpy()
    assert np.allclose(values, psi(theta, 4), atol=1e-6)
    assert np.all(np.diff(values) < 0)
    assert np.max(np.abs(np.diff(values))) < 1e-2, "no jump at the piece boundaries kπ/m"
    assert values[0] == pytest.approx(1.0, abs=1e-6) and values[-1] == pytest.approx(-7.0, abs=1e-6)


def test_cosface_logits_and_loss_follow_eqs_3_and_4() -> None:
    head, weights, x, labels = case("cosface", scale=64.0, margin=0.35)
    cos = cosines(weights, x)
    rows = np.arange(len(labels))
    expected = 64.0 * cos
    expected[rows, labels] = 64.0 * (cos[rows, labels] - 0.35)
    logits = logits_of(head, x, labels)
    assert np.allclose(logits.numpy(), expected, atol=1e-3)
    assert loss_of(logits, labels) == pytest.approx(margin_loss(expected[rows, labels], expected, labels), rel=1e-4)


def test_arcface_logits_and_loss_follow_eqs_5_and_6() -> None:
    head, weights, x, labels = case("arcface", scale=64.0, margin=0.5)
    cos = cosines(weights, x)
    rows = np.arange(len(labels))
    theta_y = np.arccos(cos[rows, labels])
    assert np.all(theta_y + 0.5 < math.pi)
    expected = 64.0 * cos
    expected[rows, labels] = 64.0 * np.cos(theta_y + 0.5)
    logits = logits_of(head, x, labels)
    assert np.allclose(logits.numpy(), expected, atol=1e-3)
    assert loss_of(logits, labels) == pytest.approx(margin_loss(expected[rows, labels], expected, labels), rel=1e-4)


@pytest.mark.parametrize("theta", [math.pi - 0.5 - 0.05, math.pi - 0.5 + 0.05, math.pi - 0.01])
def test_arcface_near_pi_keeps_the_margin_then_falls_back_to_cos_minus_m_sin_m(theta: float) -> None:
    head = MarginHead("arcface", 2, 2, scale=64.0, margin=0.5)
    head.weight.data.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    embedding = np.array([[math.cos(theta), math.sin(theta)]])
    logit = float(logits_of(head, embedding, np.array([0]))[0, 0])
    if theta + 0.5 <= math.pi:
        expected = 64.0 * math.cos(theta + 0.5)
    else:
        expected = 64.0 * (math.cos(theta) - 0.5 * math.sin(0.5))
    assert logit == pytest.approx(expected, abs=1e-3)
    assert logit < 64.0 * math.cos(theta), "the true class's logit stays below its plain cosine logit"


def test_sphereface_needs_an_integer_margin() -> None:
    with pytest.raises(ValueError, match="integer"):
        MarginHead("sphereface", DIM, CLASSES, margin=0.35)


def test_the_narrow_densenet_is_torchvisions_with_dense_connections() -> None:
    torch.manual_seed(0)
    net = NarrowDenseNet(7)
    images = torch.randn(3, 3, 48, 48)
    assert net(images).shape == (3, 7)
    assert net.features(images).shape == (3, net.feature_dim)
    growth, blocks, stem = 16, (2, 4, 6, 4), 32
    channels = stem
    for index, count in enumerate(blocks):
        channels += count * growth
        if index < len(blocks) - 1:
            channels //= 2
    assert net.feature_dim == channels
    assert type(net.body.denseblock1).__module__ == "torchvision.models.densenet"


@pytest.mark.parametrize("backbone", sorted(BACKBONES))
def test_each_backbone_gives_the_face_embedding_its_width(backbone: str) -> None:
    torch.manual_seed(0)
    model = EmbeddingNet(32, backbone).eval()
    assert model(torch.randn(2, 3, 48, 48)).shape == (2, 32)


def test_an_unknown_backbone_is_refused() -> None:
    with pytest.raises(ValueError, match="backbone"):
        EmbeddingNet(32, "vgg")


def input_ids(input_dir: Path) -> list[str]:
    """The ids of the /input manifest, in the order the embeddings' rows follow."""
    return [item["id"] for item in json.loads((input_dir / "manifest.json").read_text())["items"]]


def probe_rank1(embeddings: np.ndarray, ids: list[str], built) -> tuple[float, float]:
    """Brute-force rank-1 over the built gallery, and chance (one over the gallery's identities)."""
    row = {item_id: index for index, item_id in enumerate(ids)}
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    identity = {item.id: item.identity for item in built.items}
    gallery = built.roles.gallery
    similarity = unit[[row[p] for p in built.roles.probes]] @ unit[[row[g] for g in gallery]].T
    best = [gallery[index] for index in similarity.argmax(axis=1)]
    rank1 = float(np.mean([identity[b] == identity[p] for p, b in zip(built.roles.probes, best)]))
    return rank1, 1.0 / len({identity[g] for g in gallery})


@pytest.mark.slow
def test_the_sphereface_baseline_beats_chance_by_five_times(predicted) -> None:
    built, output_dir = predicted("icartoonface-sphereface")
    ids = input_ids(output_dir.parent / "input")
    rank1, chance = probe_rank1(np.load(output_dir / "embeddings.npy"), ids, built)
    assert rank1 >= 5 * chance, f"rank-1 {rank1:.3f} vs chance {chance:.3f}"


@pytest.mark.slow
def test_a_densenet_face_embedding_trains_saves_its_backbone_and_predicts(tiny_built, tmp_path) -> None:
    from baselines.common.context import TrainContext
    from baselines.common.faces import HeadConfig, predict_face_embeddings, train_face_embedding
    from baselines.common.weights import load_checkpoint
    from evaluator.contract import prepare_input

    built = tiny_built("icartoonface")
    checkpoint = tmp_path / "densenet.pt"
    train_face_embedding(TrainContext(built, checkpoint, lambda name: tmp_path), "densenet-softmax", HeadConfig("softmax", backbone="densenet"))
    assert load_checkpoint(checkpoint)["backbone"] == "densenet"
    input_dir = prepare_input(built, tmp_path / "input")
    predict_face_embeddings(input_dir, tmp_path / "output", checkpoint)
    ids = input_ids(input_dir)
    embeddings = np.load(tmp_path / "output" / "embeddings.npy")
    assert embeddings.shape == (len(ids), 128)
    rank1, chance = probe_rank1(embeddings, ids, built)
    assert rank1 >= 5 * chance, f"rank-1 {rank1:.3f} vs chance {chance:.3f}"
