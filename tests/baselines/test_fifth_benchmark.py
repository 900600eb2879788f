"""A fifth classification benchmark is one YAML file: validate, build, score, and run baselines on it.

The benchmarks folder holds the four bundled specs plus ``pets.yaml``, four
toon-object classes in an order of its own; nothing else changes. The spec's
class order is the score columns' order, and the classification baselines
run on it by name.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from baselines.cli import main as baselines_main
from baselines.checkpoints import ensure_checkpoint
from baselines.registry import all_baselines, get_baseline
from datasets.__main__ import main as datasets_main
from datasets.build import BuiltBenchmark, load_built
from datasets.spec import BENCHMARKS_DIR
from evaluator.__main__ import main as evaluator_main

PETS = ["panda", "cat", "penguin", "dog"]
PETS_YAML = """\
slug: pets
title: Cartoon pets
version: 1
order: 5
task: classification
summary: Four cartoon animals drawn by the toon_objects generator, in an order of this benchmark's own.
classes: [panda, cat, penguin, dog]
dataset:
  adapter: folder_per_class
  synthetic: {generator: toon_objects, seed: 3, per_class: 40, size: 64}
split: {method: stratified, test_fraction: 0.25, seed: 0}
metrics:
  - {name: top1_error, fn: topk_error, k: 1, higher_is_better: false}
  - {name: top3_error, fn: topk_error, k: 3, higher_is_better: false}
leaderboard: {rank_by: top1_error}
limits: {timeout_s: 600, memory_gb: 4, cpus: 2, gpus: 0, output_mb: 16, submissions_per_day: 5}
profiles:
  tiny:
    dataset: {synthetic: {per_class: 20}}
"""


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A benchmarks folder of the bundled specs plus ``pets.yaml``, in use for the whole module."""
    root = tmp_path_factory.mktemp("fifth")
    specs = root / "benchmarks"
    shutil.copytree(BENCHMARKS_DIR, specs)
    (specs / "pets.yaml").write_text(PETS_YAML)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("datasets.spec.BENCHMARKS_DIR", specs)
        yield root


@pytest.fixture(scope="module")
def pets(workspace: Path) -> BuiltBenchmark:
    assert datasets_main(["build", "pets", "--profile", "tiny", "--dev", "--data", str(workspace / "data")]) == 0
    return load_built("pets", workspace / "data")


def run_json(main, argv: list[str], capsys: pytest.CaptureFixture[str]) -> object:
    assert main(argv) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_the_new_spec_validates_with_every_check(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pets_spec = str(workspace / "benchmarks" / "pets.yaml")
    assert datasets_main(["validate", pets_spec]) == 0
    assert evaluator_main(["validate", pets_spec]) == 0
    assert capsys.readouterr().out.splitlines() == [f"OK {pets_spec}", f"OK {pets_spec}"]


def test_it_builds_the_spec_classes_in_the_spec_order(pets: BuiltBenchmark) -> None:
    assert pets.spec.classes == PETS
    assert sorted({item.label for item in pets.items}) == sorted(PETS)
    assert len(pets.train_items()) == 4 * 15 and len(pets.test_items()) == 4 * 5


def test_a_constant_submission_and_a_perfect_one_score_as_the_protocol_says(
    pets: BuiltBenchmark, workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(workspace / "data")
    assert evaluator_main(["prepare", "pets", str(tmp_path / "input"), "--data", data]) == 0
    capsys.readouterr()
    manifest = json.loads((tmp_path / "input" / "manifest.json").read_text())
    assert manifest["classes"] == PETS and len(manifest["items"]) == 20

    constant = tmp_path / "constant"
    constant.mkdir()
    np.save(constant / "scores.npy", np.zeros((20, 4), dtype=np.float32))
    scored = run_json(evaluator_main, ["score", "pets", str(constant), "--data", data, "--json"], capsys)
    # all scores tie and ties never help: the 3 other classes rank above the true one (k = 3 < 4 classes)
    assert (scored["top1_error"], scored["top3_error"]) == (1.0, 1.0)

    truth = {item.id: item.label for item in pets.test_items()}
    perfect = tmp_path / "perfect"
    perfect.mkdir()
    scores = np.zeros((20, 4), dtype=np.float32)
    for row, entry in enumerate(manifest["items"]):
        scores[row, PETS.index(truth[entry["id"]])] = 1.0
    np.save(perfect / "scores.npy", scores)
    scored = run_json(evaluator_main, ["score", "pets", str(perfect), "--data", data, "--json"], capsys)
    assert (scored["top1_error"], scored["top3_error"]) == (0.0, 0.0)


def test_the_classification_baselines_are_listed_for_it(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    listed = run_json(baselines_main, ["list", "--benchmark", "pets", "--json"], capsys)
    classification = {b.name for b in all_baselines() if b.benchmark in ("toonnet", "illustration")}
    assert {entry["name"] for entry in listed} == classification
    assert [entry["benchmark"] for entry in listed] == ["toonnet"] * 4 + ["illustration"] * 2


def test_without_only_it_says_the_benchmark_has_no_baselines_of_its_own(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert baselines_main(["train", "--benchmark", "pets", "--data", str(workspace / "data")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: benchmark 'pets' has no baselines of its own; run others on it with --only NAME")
    assert error.count("\n") == 1


def test_a_baseline_trains_evaluates_and_predicts_on_it_by_name(
    pets: BuiltBenchmark, workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, checkpoints = str(workspace / "data"), str(tmp_path / "checkpoints")
    chosen = ["--benchmark", "pets", "--only", "toonnet-resnet", "--data", data, "--checkpoints", checkpoints]
    assert baselines_main(["train", *chosen]) == 0
    checkpoint = Path(checkpoints) / "pets" / "toonnet-resnet" / f"{pets.protocol_hash}.npz"
    assert checkpoint.is_file()

    results = run_json(baselines_main, ["evaluate", *chosen, "--json"], capsys)
    metrics = results["toonnet-resnet"]
    assert set(metrics) == {"train_seconds", "top1_error", "top3_error"}
    assert 0.0 <= metrics["top3_error"] <= metrics["top1_error"] < 0.75  # better than the constant guess

    assert evaluator_main(["prepare", "pets", str(tmp_path / "input"), "--data", data]) == 0
    assert baselines_main(["predict", "toonnet-resnet", str(tmp_path / "input"), str(tmp_path / "output"), "--checkpoints", checkpoints]) == 0
    capsys.readouterr()
    scored = run_json(evaluator_main, ["score", "pets", str(tmp_path / "output"), "--data", data, "--json"], capsys)
    assert scored["top1_error"] == metrics["top1_error"]


def test_a_baseline_of_another_task_is_refused_with_the_reason(pets: BuiltBenchmark, tmp_path: Path) -> None:
    with pytest.raises(ValueError) as caught:
        ensure_checkpoint(get_baseline("icartoonface-arcface"), pets, tmp_path)
    assert str(caught.value) == (
        "baseline 'icartoonface-arcface' runs on identification_verification benchmarks; 'pets' is a classification benchmark"
    )
    assert not any(tmp_path.iterdir())
