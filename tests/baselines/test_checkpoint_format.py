"""Checkpoints are arrays plus JSON (no pickle), and the stored SVM decides as scikit-learn's estimator does."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from baselines.common.weights import load_checkpoint, save_checkpoint
from baselines.illustration_cnn_svm.svm import select_svm, svm_arrays, svm_scores


def test_a_tree_of_tensors_arrays_and_values_reads_back_equal(tmp_path: Path) -> None:
    payload = {"baseline": "b", "shape": {"width": 8}, "losses": [0.5, 0.25], "flag": True,
               "state": {"w": torch.linspace(-1, 1, 6).reshape(2, 3), "n": torch.tensor(7)},
               "members": [{"state": {"b": torch.ones(2)}}], "mean": np.arange(3, dtype=np.float64)}
    read = load_checkpoint(save_checkpoint(tmp_path / "c.npz", payload))

    assert {k: read[k] for k in ("baseline", "shape", "losses", "flag")} == {"baseline": "b", "shape": {"width": 8}, "losses": [0.5, 0.25], "flag": True}
    assert torch.equal(read["state"]["w"], payload["state"]["w"]) and int(read["state"]["n"]) == 7
    assert torch.equal(read["members"][0]["state"]["b"], torch.ones(2))
    assert isinstance(read["mean"], np.ndarray) and read["mean"].tolist() == [0.0, 1.0, 2.0]
    with zipfile.ZipFile(tmp_path / "c.npz") as archive:
        assert all(archive.read(n).startswith(b"\x93NUMPY") for n in archive.namelist() if n != "payload.json")


def test_an_object_or_a_pickled_value_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="object arrays"):
        save_checkpoint(tmp_path / "c.npz", {"x": np.array([{"a": 1}], dtype=object)})
    with pytest.raises(TypeError, match="not bytes"):
        save_checkpoint(tmp_path / "c.npz", {"svm": b"\x80\x04pickle"})
    (tmp_path / "old.npz").write_bytes(b"\x80\x04old torch pickle")
    with pytest.raises(ValueError, match="retrain"):
        load_checkpoint(tmp_path / "old.npz")


@pytest.mark.parametrize("kernel", ["rbf", "sigmoid"])
def test_the_stored_svm_gives_scikit_learns_decision_values(kernel: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    targets = np.repeat(np.arange(4), 15)
    features = rng.normal(size=(60, 16))
    features[np.arange(60), targets] += 2.0
    fitted = select_svm(features, targets, kernel, c_grid=[1.0], gamma_grid=[1e-4, 1e-3]).best_estimator_

    stored = load_checkpoint(save_checkpoint(tmp_path / "svm.npz", {"svm": svm_arrays(fitted)}))

    np.testing.assert_allclose(svm_scores(features[:20], stored), fitted.decision_function(features[:20]), rtol=1e-5, atol=1e-5)
