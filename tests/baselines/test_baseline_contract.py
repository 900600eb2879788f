"""Each baseline's predict entrypoint, run by the local runner on a real /input folder, obeys the contract."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from baselines.registry import all_baselines

NAMES = [baseline.name for baseline in all_baselines()]


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_predict_writes_the_contract_outputs_in_manifest_order(name: str, predicted) -> None:
    from baselines.registry import get_baseline
    from evaluator.validation import validate_outputs

    built, output_dir = predicted(name)
    manifest = json.loads((output_dir.parent / "input" / "manifest.json").read_text())
    count = len(manifest["items"])
    kind = get_baseline(name).output
    if kind == "scores":
        scores = np.load(output_dir / "scores.npy")
        assert scores.dtype == np.float32 and scores.shape == (count, len(manifest["classes"]))
        assert np.isfinite(scores).all()
    elif kind == "embeddings":
        embeddings = np.load(output_dir / "embeddings.npy")
        assert embeddings.dtype == np.float32 and embeddings.shape[0] == count and embeddings.shape[1] >= 1
        assert np.isfinite(embeddings).all()
    else:
        for item in manifest["items"]:
            source = cv2.imread(str(output_dir.parent / "input" / item["path"]))
            written = cv2.imread(str(output_dir / "images" / f"{item['id']}.png"))
            assert written is not None and written.shape == source.shape
        assert len(list((output_dir / "images").iterdir())) == count
    validate_outputs(built, output_dir)


def test_identity_returns_the_photos_pixel_for_pixel(predicted) -> None:
    _, output_dir = predicted("cartoon-identity")
    manifest = json.loads((output_dir.parent / "input" / "manifest.json").read_text())
    for item in manifest["items"]:
        source = cv2.imread(str(output_dir.parent / "input" / item["path"]))
        assert np.array_equal(cv2.imread(str(output_dir / "images" / f"{item['id']}.png")), source)


def test_predict_fails_with_a_clear_message_without_a_checkpoint(tmp_path, tiny_built) -> None:
    import subprocess

    from baselines.registry import get_baseline
    from evaluator.contract import prepare_input

    input_dir = prepare_input(tiny_built("toonnet"), tmp_path / "input")
    command = get_baseline("toonnet-resnet").runner_command(tmp_path / "missing.pt")
    command = [part.replace("{input}", str(input_dir)).replace("{output}", str(tmp_path / "out")) for part in command]
    completed = subprocess.run(command, capture_output=True, text=True)
    assert completed.returncode != 0
    assert "missing.pt" in completed.stderr and "python -m baselines train" in completed.stderr
