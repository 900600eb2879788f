"""The dev kit command line, run as a participant runs it: a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import top_k_accuracy_score

from datasets.build import BuiltBenchmark, build_benchmark
from evaluator.contract import input_items

REPO = Path(__file__).resolve().parents[2]
PYTHON = REPO / ".venv" / "bin" / "python"


def devkit(*args: str | Path) -> subprocess.CompletedProcess[str]:
    command = [str(PYTHON if PYTHON.exists() else sys.executable), "-m", "evaluator", *map(str, args)]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="module")
def toonnet(data_root) -> BuiltBenchmark:
    return build_benchmark("toonnet", data_root, profile="tiny")


@pytest.fixture(scope="module")
def scored_output(toonnet, tmp_path_factory) -> tuple[Path, np.ndarray, np.ndarray]:
    folder = tmp_path_factory.mktemp("output")
    scores = np.random.default_rng(11).random((len(input_items(toonnet)), len(toonnet.spec.classes))).astype(np.float32)
    np.save(folder / "scores.npy", scores)
    labels = np.array([toonnet.spec.classes.index(item.label) for item in input_items(toonnet)])
    return folder, scores, labels


def test_score_json_prints_metrics_ci_and_protocol_hash(toonnet, data_root, scored_output):
    folder, scores, labels = scored_output
    run = devkit("score", "toonnet", folder, "--data", data_root, "--json", "--resamples", "100")
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)
    expected = 1.0 - top_k_accuracy_score(labels, scores, k=1, labels=list(range(len(toonnet.spec.classes))))
    assert document["top1_error"] == pytest.approx(expected)
    assert document["protocol_hash"] == toonnet.protocol_hash
    assert set(document["ci95"]) == {"top1_error", "top3_error"}
    low, high = document["ci95"]["top1_error"]
    assert 0.0 <= low <= high <= 1.0
    assert document["comparable"] is True and document["extractor"] is None


def test_score_prints_a_table_and_draws_plots(data_root, scored_output, tmp_path):
    folder, _, _ = scored_output
    run = devkit("score", "toonnet", folder, "--data", data_root, "--resamples", "50", "--plots", tmp_path / "plots")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert any(line.startswith("top1_error") and "[" in line for line in lines)
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == ["confusion.png", "per_class.png"]


def test_bad_output_exits_non_zero_with_one_line_and_no_traceback(data_root, toonnet, tmp_path):
    np.save(tmp_path / "scores.npy", np.zeros((3, 12), dtype=np.float64))
    run = devkit("score", "toonnet", tmp_path, "--data", data_root, "--json")
    assert run.returncode == 1
    assert run.stdout == ""
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert "scores.npy: dtype float64, expected float32" in run.stderr


def test_a_missing_benchmark_exits_non_zero_with_the_command_to_build_it(tmp_path):
    run = devkit("score", "toonnet", tmp_path, "--data", tmp_path / "nothing-built")
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert "not built" in run.stderr and "python -m datasets build toonnet" in run.stderr


def test_prepare_writes_the_input_folder_a_container_sees(toonnet, data_root, tmp_path):
    run = devkit("prepare", "toonnet", tmp_path / "input", "--data", data_root)
    assert run.returncode == 0, run.stderr
    manifest = json.loads((tmp_path / "input" / "manifest.json").read_text())
    assert [entry["id"] for entry in manifest["items"]] == [item.id for item in input_items(toonnet)]
    assert manifest["classes"] == list(toonnet.spec.classes)
    assert len(list((tmp_path / "input" / "images").iterdir())) == len(input_items(toonnet))
