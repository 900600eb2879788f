"""The illustration baselines against Lagunas & Garces: VGG19 layout and fc7 (§5.1), SVM by 3-fold CV (§6.1, §7.2),
re-initialised layers and their learning rates (§7.1), adaptation on the noisy set (§4.2, §7.1), and the ImageNet weights path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold, cross_val_score

from baselines.common.vgg import FULL, WEIGHTS_ENV, Vgg19, VggShape, load_vgg19, paper_layers, reinitialise, shape_of_state, weights_file
from baselines.illustration_cnn_svm import svm
from baselines.illustration_cnn_svm.svm import C_GRID, GAMMA_GRID, fit_svm, select_svm, svm_pipeline
from baselines.illustration_cnn_svm_optimized.method import (
    KEPT,
    KEPT_LR,
    PAPER_RATES,
    REINITIALISED,
    REINITIALISED_LR,
    adaptation_set,
    adapted_start,
    parameter_groups,
)
from datasets.generators.glyph_noisy import noisy_classes

SMALL = VggShape(divisor=8, fc_width=64, pool=1)


def shapes(module: torch.nn.Module) -> dict[str, tuple[int, ...]]:
    return {key: tuple(value.shape) for key, value in module.state_dict().items()}


@pytest.mark.parametrize(("factory", "shape"), [(torchvision.models.vgg19, FULL), (torchvision.models.vgg19_bn, VggShape(1, 4096, 7, True))])
def test_full_shape_is_torchvisions_vgg19_key_for_key(factory, shape: VggShape) -> None:
    with torch.device("meta"):
        reference, ours = factory(), Vgg19(1000, shape)
    assert shapes(ours) == shapes(reference)
    assert shape_of_state(reference.state_dict()) == shape


def test_paper_layer_numbers_map_onto_torchvision_indices() -> None:
    with torch.device("meta"):
        plain, with_bn = Vgg19(1000, FULL), Vgg19(1000, VggShape(1, 4096, 7, True))
    convs = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34]
    assert paper_layers(plain) == {**{n: f"features.{i}" for n, i in enumerate(convs, 1)}, 17: "classifier.0", 18: "classifier.3", 19: "classifier.6"}
    assert [paper_layers(with_bn)[n] for n in (1, 10, 11, 16)] == ["features.0", "features.30", "features.33", "features.49"]


def test_fc7_is_the_second_fc_after_its_relu() -> None:
    torch.manual_seed(0)
    model = Vgg19(5, SMALL).eval()
    images = torch.randn(3, 3, 48, 48)
    with torch.no_grad():
        features = model.fc7(images)
        pooled = model.features(images).amax(dim=(2, 3))  # 48 px → a 1×1 map, so pooling is the identity
        fc6 = torch.relu(pooled @ model.classifier[0].weight.T + model.classifier[0].bias)
        expected = torch.relu(fc6 @ model.classifier[3].weight.T + model.classifier[3].bias)
    assert features.shape == (3, 64)
    assert torch.allclose(features, expected, atol=1e-6)
    assert (features >= 0).all() and (features == 0).any()


def xor_features(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = np.array([[1, 1], [-1, -1], [1, -1], [-1, 1]], dtype=float)
    which = rng.integers(0, 4, count)
    return centres[which] + rng.normal(0, 0.25, (count, 2)), (which >= 2).astype(int)


def test_svm_selection_takes_the_best_mean_cv_score_on_train_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(svm, "JOBS", 1)  # worker start-up would dominate on 120 points
    features, targets = xor_features(120, 0)
    search = select_svm(features, targets, "rbf")
    folds = StratifiedKFold(3)
    expected = {}
    for c in C_GRID:
        for gamma in GAMMA_GRID:
            estimator = clone(svm_pipeline(2, "rbf")).set_params(svm__estimator__C=c, svm__estimator__gamma=gamma)
            expected[(c, gamma)] = cross_val_score(estimator, features, targets, cv=folds).mean()
    best = max(expected, key=expected.get)
    assert (search.best_params_["svm__estimator__C"], search.best_params_["svm__estimator__gamma"]) == best
    assert expected[best] > min(expected.values()) + 0.2  # the grid matters: XOR needs a local kernel
    assert best[1] != min(GAMMA_GRID)
    assert 1.0 in C_GRID and 10.0 in C_GRID and 1e-4 in GAMMA_GRID


def test_fitted_svm_is_one_binary_machine_per_class(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(svm, "JOBS", 1)
    rng = np.random.default_rng(1)
    features = np.concatenate([rng.normal(loc, 0.3, (20, 8)) for loc in range(4)])
    targets = np.repeat(np.arange(4), 20)
    stored = fit_svm(features, targets, "sigmoid")
    assert len(stored["svm"]["machines"]) == 4 and stored["svm"]["kernel"] == "sigmoid"
    assert stored["svm_params"]["kernel"] == "sigmoid" and stored["svm_params"]["C"] in C_GRID


def test_optimized_groups_have_the_papers_two_rates_and_layers() -> None:
    model = Vgg19(5, SMALL)
    groups = parameter_groups(model)
    assert [group["lr"] for group in groups] == [REINITIALISED_LR, KEPT_LR]
    assert KEPT_LR == pytest.approx(REINITIALISED_LR / 100) and PAPER_RATES == (1e-2, 1e-4)
    modules = dict(model.named_modules())
    mapping = paper_layers(model)
    kept_ids = {id(p) for group in groups[1:] for p in group["params"]}
    assert kept_ids == {id(p) for n in KEPT for p in modules[mapping[n]].parameters()} | {
        id(p) for n in KEPT for p in modules[f"features.{int(mapping[n].split('.')[1]) + 1}"].parameters()
    }
    fresh_ids = {id(p) for p in groups[0]["params"]}
    assert {id(p) for p in modules[mapping[1]].parameters()} <= fresh_ids and {id(p) for p in modules[mapping[19]].parameters()} <= fresh_ids
    assert fresh_ids.isdisjoint(kept_ids) and fresh_ids | kept_ids == {id(p) for p in model.parameters()}


def test_reinitialise_touches_only_the_named_layers() -> None:
    model = Vgg19(5, SMALL)
    before = {key: value.clone() for key, value in model.state_dict().items()}
    reinitialise(model, range(1, 11), seed=3)
    mapping = paper_layers(model)
    after = model.state_dict()
    assert not torch.equal(after[f"{mapping[1]}.weight"], before[f"{mapping[1]}.weight"])
    assert not torch.equal(after[f"{mapping[10]}.weight"], before[f"{mapping[10]}.weight"])
    assert torch.equal(after[f"{mapping[11]}.weight"], before[f"{mapping[11]}.weight"])
    assert torch.equal(after["classifier.0.weight"], before["classifier.0.weight"])


def test_adaptation_starts_from_the_plain_network_with_the_papers_layers_fresh() -> None:
    torch.manual_seed(0)
    plain = Vgg19(5, SMALL)
    with torch.no_grad():
        plain.train()(torch.randn(4, 3, 48, 48))  # batch-norm statistics that differ from fresh ones
    payload = {"shape": {"divisor": 8, "fc_width": 64, "pool": 1, "batch_norm": True}, "state": plain.state_dict()}
    adapted = adapted_start(payload, 9, seed=2)
    mapping = paper_layers(adapted)
    state = adapted.state_dict()
    assert adapted.classifier[6].out_features == 9
    for number in KEPT:
        assert torch.equal(state[f"{mapping[number]}.weight"], plain.state_dict()[f"{mapping[number]}.weight"])
    for number in [n for numbers in REINITIALISED for n in numbers if n != 19]:
        assert not torch.equal(state[f"{mapping[number]}.weight"], plain.state_dict()[f"{mapping[number]}.weight"])
    batch_norm = {n: f"features.{int(mapping[n].split('.')[1]) + 1}.running_mean" for n in (1, 11)}
    assert torch.equal(state[batch_norm[1]], torch.zeros_like(state[batch_norm[1]]))
    assert torch.equal(state[batch_norm[11]], plain.state_dict()[batch_norm[11]]) and state[batch_norm[11]].abs().sum() > 0


def test_adaptation_reads_the_noisy_split_with_its_extra_classes(tiny_built) -> None:
    built = tiny_built("illustration")
    images, labels, classes = adaptation_set(built, 24, list(built.spec.classes))
    noisy = built.noisy_items()
    assert len(noisy) > 0 and len(images) == len(labels) == len(noisy) and images.shape[1:] == (24, 24, 3)
    assert labels == [item.label for item in noisy]
    assert classes == noisy_classes(list(built.spec.classes), built.spec.dataset.synthetic.params.noisy)
    assert set(classes) > set(built.spec.classes)


def write_weights(path: Path, seed: int, num_classes: int) -> Vgg19:
    torch.manual_seed(seed)
    source = Vgg19(num_classes, VggShape(8, 64, 1, batch_norm=False)).eval()
    torch.save(source.state_dict(), path)
    return source


def test_weights_file_comes_from_the_env_var_or_the_hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    assert weights_file() is None
    cached = tmp_path / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth"
    cached.parent.mkdir(parents=True)
    write_weights(cached, 0, 1000)
    assert weights_file() == cached
    configured = tmp_path / "mine.pth"
    write_weights(configured, 1, 1000)
    monkeypatch.setenv(WEIGHTS_ENV, str(configured))
    assert weights_file() == configured


def test_loaded_weights_give_the_files_fc7_features(tmp_path: Path) -> None:
    source = write_weights(tmp_path / "vgg19.pth", 7, 1000)
    loaded = load_vgg19(tmp_path / "vgg19.pth", num_classes=5)
    images = torch.randn(2, 3, 48, 48)
    with torch.no_grad():
        assert torch.equal(loaded.fc7(images), source.fc7(images))
        assert not torch.equal(Vgg19(5, loaded.shape).eval().fc7(images), source.fc7(images))
    assert loaded.classifier[6].out_features == 5
    torch.save({"features.0.weight": torch.zeros(8, 3, 3, 3), "classifier.0.weight": torch.zeros(64, 64)}, tmp_path / "bad.pth")
    with pytest.raises((ValueError, KeyError, RuntimeError)):
        load_vgg19(tmp_path / "bad.pth", 5)


@pytest.mark.slow
def test_plain_baseline_uses_configured_weights_frozen(tiny_built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from baselines.common.context import TrainContext
    from baselines.common.weights import load_checkpoint
    from baselines.illustration_cnn_svm.method import train

    source = write_weights(tmp_path / "vgg19.pth", 11, 1000)
    monkeypatch.setenv(WEIGHTS_ENV, str(tmp_path / "vgg19.pth"))
    checkpoint = tmp_path / "plain.pt"
    train(TrainContext(tiny_built("illustration"), checkpoint, lambda name: pytest.fail(f"needs {name}")))
    payload = load_checkpoint(checkpoint)
    assert payload["weights"] == "ImageNet weights from vgg19.pth"
    kept = {key: value for key, value in source.state_dict().items() if not key.startswith("classifier.6.")}
    assert all(torch.equal(payload["state"][key], value) for key, value in kept.items())
