"""A new task type is one module plus its components: a toy regression task, registered here alone.

The toy task (predict each image's grey level, scored by mean absolute
error) brings its own truth field (the manifest's numeric ``target``), a
generator, an adapter, a split method and a metric, all registered by this
test with the public ``register_*`` functions. It is then run the whole
way: built, prepared as ``/input``, scored by the dev kit, synced into the
site, evaluated through the normal job path with the local runner, and
ranked on the leaderboard page. No code outside this file knows the task.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from django.contrib.auth.models import User
from django.test import Client
from pydantic import Field

import datasets.spec
from benchmarks.models import Benchmark
from benchmarks.sync import sync_benchmarks
from datasets.adapters import ADAPTERS, register_adapter
from datasets.build import BuiltBenchmark, build_benchmark
from datasets.components import NoParams, Params
from datasets.generators import GENERATORS, register_generator
from datasets.manifest import ManifestItem, read_manifest
from datasets.protocol import SPLIT_METHODS, HoldoutParams, SplitAssignment, register_split
from evaluator.__main__ import main as devkit
from evaluator.contract import prepare_input
from evaluator.metrics import METRICS, register_metric
from evaluator.output_files import OutputError, check_finite, load_npy
from evaluator.tasks import TASKS, Evidences, ScoringOptions, TaskType, TaskWords, register_task
from jobs import evaluation
from submissions.models import Status, Submission

pytestmark = pytest.mark.django_db(transaction=True)

SLUG = "toy_levels"
PREDICTIONS_NPY = "predictions.npy"
TOY_SPEC = f"""
slug: {SLUG}
title: Toy grey levels
version: 1
task: regression
summary: Predict each image's grey level.
dataset:
  adapter: toy_levels_folder
  synthetic: {{generator: toy_levels, seed: 3, count: 40}}
split: {{method: toy_holdout, seed: 5, test_fraction: 0.25}}
metrics:
  - {{name: mae, fn: mae, higher_is_better: false}}
leaderboard: {{rank_by: mae}}
limits: {{timeout_s: 120, memory_gb: 2, cpus: 1, gpus: 0}}
"""
# The stand-in model reads only /input: the mean grey level of each image, as a number in [0, 1].
PREDICT_COMMAND = r"""
import json, sys, numpy as np
from PIL import Image
manifest = json.load(open(sys.argv[1] + "/manifest.json"))
levels = [np.asarray(Image.open(sys.argv[1] + "/" + item["path"]).convert("L"), dtype=np.float64).mean() / 255
          for item in manifest["items"]]
np.save(sys.argv[2] + "/predictions.npy", np.array(levels, dtype=np.float32) + np.float32(sys.argv[3]))
print("predicted", len(levels))
"""


class LevelsParams(Params):
    count: int = Field(ge=4)


@dataclass(frozen=True)
class RegressionEvidence:
    predictions: np.ndarray
    targets: np.ndarray

    def __len__(self) -> int:
        return len(self.targets)

    def take(self, indices: np.ndarray) -> RegressionEvidence:
        return RegressionEvidence(self.predictions[indices], self.targets[indices])

    def details(self) -> dict[str, Any]:
        return {"items": len(self)}


def mean_absolute_error(evidence: RegressionEvidence, params: Any) -> float:
    return float(np.abs(evidence.predictions.astype(np.float64) - evidence.targets).mean())


def draw_levels(params: LevelsParams, classes: list[str], seed: int, folder: Path) -> list[ManifestItem]:
    levels = np.random.default_rng(seed).integers(0, 256, size=params.count)
    items = []
    for index, level in enumerate(levels):
        path = f"images/n{index:03d}.png"
        cv2.imwrite(str(folder / path), np.full((8, 8), int(level), dtype=np.uint8))
        items.append(ManifestItem(f"n{index:03d}", path, target=round(int(level) / 255, 6)))
    return items


def no_real_levels(root: Path, params: NoParams, classes: list[str], folder: Path) -> list[ManifestItem]:
    raise FileNotFoundError(f"{root}: the toy task has no real data")


def holdout(items: list[ManifestItem], params: HoldoutParams, seed: int, folder: Path) -> SplitAssignment:
    ids = sorted(item.id for item in items)
    test = set(np.random.default_rng(seed).permutation(len(ids))[: round(len(ids) * params.test_fraction)].tolist())
    return SplitAssignment({item_id: "test" if index in test else "train" for index, item_id in enumerate(ids)})


def load_predictions(built: BuiltBenchmark, output_dir: Path, inputs: list[ManifestItem]) -> np.ndarray:
    path = Path(output_dir) / PREDICTIONS_NPY
    if not path.exists():
        raise OutputError(f"{path}: not found; expected {PREDICTIONS_NPY} (float32 [{len(inputs)}])")
    predictions = load_npy(path)
    if predictions.dtype != np.float32 or predictions.shape != (len(inputs),):
        raise OutputError(f"{path}: {predictions.dtype} {predictions.shape}, expected float32 [{len(inputs)}]")
    check_finite(path, predictions, [item.id for item in inputs])
    return predictions


def regression_evidence(
    built: BuiltBenchmark, predictions: np.ndarray, inputs: list[ManifestItem], references: list[ManifestItem],
    options: ScoringOptions,
) -> tuple[Evidences, None]:
    targets = np.array([item.target for item in inputs], dtype=np.float64)
    return {"regression": RegressionEvidence(predictions, targets)}, None


REGRESSION = TaskType(
    name="regression",
    words=TaskWords(
        title="Grey-level regression", summary="grey-level regression",
        input="one grey image; the submission predicts its level", output="predictions.npy: float32 [N]",
        container_inputs="the test images", scoring="Predictions are compared with the true levels by MAE.",
    ),
    truth_field="target",
    expected_outputs=lambda built, count: {
        "files": [PREDICTIONS_NPY], "shape": [count], "dtype": "float32",
        "description": f"{PREDICTIONS_NPY}: float32 array [{count}], one level per item in manifest.json order",
    },
    load_outputs=load_predictions,
    evidence=regression_evidence,
    readme_sizes=lambda built, inputs: [f"- train: {len(built.train_items())}", f"- test inputs: {len(inputs)}"],
)


@pytest.fixture
def toy_task(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """The toy task and its components registered, its spec the only benchmark; all undone afterwards."""
    for registry in (TASKS, METRICS, GENERATORS, ADAPTERS, SPLIT_METHODS):
        monkeypatch.setattr(registry, "_entries", dict(registry._entries))
    register_task(REGRESSION)
    register_metric("mae", tasks=("regression",), evidence="regression", higher_is_better=False,
                    resamples=200)(mean_absolute_error)
    register_generator("toy_levels", tasks=("regression",), params=LevelsParams)(draw_levels)
    register_adapter("toy_levels_folder", tasks=("regression",), params=NoParams)(no_real_levels)
    register_split("toy_holdout", tasks=("regression",), params=HoldoutParams)(holdout)
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / f"{SLUG}.yaml").write_text(TOY_SPEC)
    monkeypatch.setattr(datasets.spec, "BENCHMARKS_DIR", specs)
    yield specs


def test_the_toy_task_builds_with_its_own_truth_field_and_prepares_an_input_without_it(
    toy_task: Path, tmp_path: Path
) -> None:
    built = build_benchmark(SLUG, tmp_path / "data")
    assert [item.split for item in built.items].count("test") == 10
    assert all(item.target is not None and item.label is None for item in built.items)
    assert read_manifest(built.folder) == built.items
    line = (built.folder / "manifest.jsonl").read_text().splitlines()[0]
    assert set(json.loads(line)) == {"id", "path", "sha256", "split", "target"}

    document = json.loads((prepare_input(built, tmp_path / "input") / "manifest.json").read_text())
    assert document["task"] == "regression"
    assert document["items"] == [{"id": item.id, "path": f"images/{item.id}.png"} for item in built.test_items()]
    assert "target" not in json.dumps(document)
    assert document["outputs"]["files"] == [PREDICTIONS_NPY] and document["outputs"]["shape"] == [10]


def test_the_dev_kit_scores_the_toy_task_and_reports_bad_output(
    toy_task: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    built = build_benchmark(SLUG, tmp_path / "data")
    targets = np.array([item.target for item in built.test_items()])
    output = tmp_path / "output"
    output.mkdir()
    np.save(output / PREDICTIONS_NPY, (targets + 0.1).astype(np.float32))
    assert devkit(["score", SLUG, str(output), "--data", str(tmp_path / "data"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["mae"] == pytest.approx(0.1, abs=1e-6)
    assert report["protocol_hash"] == built.protocol_hash

    np.save(output / PREDICTIONS_NPY, targets)  # float64: the contract says float32
    assert devkit(["score", SLUG, str(output), "--data", str(tmp_path / "data")]) == 1
    assert f"{output / PREDICTIONS_NPY}: float64 (10,), expected float32 [10]" in capsys.readouterr().err


def test_the_site_syncs_runs_and_ranks_the_toy_task(
    toy_task: Path, site: Any, tmp_path: Path, alice: User, client: Client
) -> None:
    data_root = tmp_path / "toy-data"
    built = build_benchmark(SLUG, data_root)
    site.TOONBENCH_DATA_ROOT = data_root
    sync_benchmarks(data_root)
    benchmark = Benchmark.objects.get(slug=SLUG)
    assert benchmark.task == "regression" and benchmark.current_version().protocol_hash == built.protocol_hash

    submissions = {}
    for method, offset in (("close guess", "0.0"), ("far guess", "0.2")):
        submissions[method] = Submission.objects.create(
            owner=alice, benchmark=benchmark, protocol=benchmark.current_version(), kind="local",
            command=[sys.executable, "-c", PREDICT_COMMAND, "{input}", "{output}", offset],
            method_name=method, is_public=True,
        )
        assert evaluation.evaluate(submissions[method].pk, worker="test-worker") == Status.FINISHED

    close = submissions["close guess"]
    close.refresh_from_db()
    assert close.result.metrics["mae"] == pytest.approx(0.0, abs=1e-5)
    far = submissions["far guess"]
    far.refresh_from_db()
    assert far.result.metrics["mae"] == pytest.approx(0.2, abs=1e-5)

    page = client.get(f"/benchmarks/{SLUG}/?view=all")  # both guesses are one participant's: every submission
    assert page.status_code == 200
    html = page.content.decode()
    assert "Grey-level regression" in html and "one grey image; the submission predicts its level" in html
    rows = html[html.index('id="leaderboard"'):]
    assert rows.index("close guess") < rows.index("far guess")
