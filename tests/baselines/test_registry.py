"""The registry the site reads: every baseline is complete and its commands are runnable."""

from __future__ import annotations

import sys

import pytest

from baselines.registry import all_baselines, baselines_for, get_baseline
from datasets.registry import RegistryError


@pytest.mark.parametrize("baseline", all_baselines(), ids=lambda b: b.name)
def test_each_baseline_folder_has_its_entrypoint_dockerfile_and_functions(baseline) -> None:
    assert (baseline.folder / "predict.py").is_file()
    dockerfile = (baseline.folder / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM ${RUNTIME}" in dockerfile
    assert f'"/app/baselines/{baseline.package}/predict.py", "/input", "/output"' in dockerfile
    assert ("COPY checkpoint.npz" in dockerfile) == baseline.needs_training
    assert callable(baseline.predict_fn)
    assert (baseline.train_fn is not None) == baseline.needs_training
    assert baseline.needs_training == (baseline.folder / "train.py").is_file()


def test_every_benchmark_has_its_seed_paper_baselines() -> None:
    counts = {slug: len(baselines_for(slug)) for slug in ("toonnet", "illustration", "icartoonface", "cartoonization")}
    assert counts == {"toonnet": 4, "illustration": 2, "icartoonface": 5, "cartoonization": 6}


def test_the_command_fills_interpreter_folders_and_checkpoint() -> None:
    command = get_baseline("toonnet-fin").command("/in", "/out", "/ck/model.pt", python="/venv/bin/python")
    assert command[0] == "/venv/bin/python" and command[1].endswith("baselines/toonnet_fin/predict.py")
    assert command[2:] == ["/in", "/out", "--checkpoint", "/ck/model.pt"]
    assert get_baseline("cartoon-identity").command("/in", "/out")[0] == sys.executable


def test_a_trained_baseline_without_checkpoint_is_refused_with_the_train_command() -> None:
    with pytest.raises(ValueError, match="python -m baselines train"):
        get_baseline("toonnet-npn").command("/in", "/out")


def test_an_unknown_name_is_answered_with_close_matches() -> None:
    with pytest.raises(RegistryError, match="toonnet-fin"):
        get_baseline("toonnet-fim")
