"""A job for a phase runs the container on its held-out part only and scores that part alone."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from datasets.build import BuiltBenchmark, build_benchmark
from datasets.spec import spec_path
from evaluator.jobs import EvaluationRequest, MemoryJobStore, run_evaluation
from evaluator.runners import RunLimits, Runner, RunResult
from evaluator.runners.base import EndedRun, judge_run
from evaluator.runners.host import local_host

BUNDLED_TOONNET = spec_path("toonnet")


class TrueClassRunner(Runner):
    """Ranks, for every input it is given, the class the test knows to be true first; records the ids it saw."""

    def __init__(self, truth: dict[str, str]) -> None:
        self.truth = truth
        self.seen: list[str] = []

    def host_resources(self) -> Any:
        return local_host()

    def run(self, input_dir: Path, output_dir: Path, limits: RunLimits, *, cancel: threading.Event | None = None,
            heartbeat: Any = None, on_log: Any = None) -> RunResult:
        manifest = json.loads((Path(input_dir) / "manifest.json").read_text())
        self.seen = [entry["id"] for entry in manifest["items"]]
        classes = manifest["classes"]
        scores = np.zeros((len(self.seen), len(classes)), dtype=np.float32)
        for row, item_id in enumerate(self.seen):
            scores[row, classes.index(self.truth[item_id])] = 1.0
        Path(output_dir).mkdir(parents=True, exist_ok=True)
        np.save(Path(output_dir) / "scores.npy", scores)
        return judge_run(EndedRun(None, 0, False, "", 0.0), Path(output_dir), limits)


@pytest.fixture
def phased(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> BuiltBenchmark:
    folder = tmp_path / "specs"
    folder.mkdir()
    document = yaml.safe_load(BUNDLED_TOONNET.read_text())
    document["heldout_parts"] = [{"name": "dev", "fraction": 0.6}, {"name": "final", "fraction": 0.4, "inputs": "hidden"}]
    (folder / "toonnet.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    monkeypatch.setattr("datasets.spec.BENCHMARKS_DIR", folder)
    return build_benchmark("toonnet", tmp_path / "data", profile="tiny", source="synthetic")


def request(built: BuiltBenchmark, tmp_path: Path, part: str | None) -> EvaluationRequest:
    return EvaluationRequest("job-1", "toonnet", "image", built.folder.parent, protocol_hash=built.protocol_hash,
                             part=part, work_root=tmp_path / "work")


def test_a_phase_job_sees_and_scores_its_part_only(phased: BuiltBenchmark, tmp_path: Path) -> None:
    runner = TrueClassRunner({item.id: item.label for item in phased.test_items()})
    store = MemoryJobStore()
    assert run_evaluation(request(phased, tmp_path, "final"), store, runner) == "finished", store.fields
    final = sorted(item.id for item in phased.test_items() if item.part == "final")
    assert runner.seen == final and 0 < len(final) < len(phased.test_items())
    result = store.results["job-1"]
    assert result.part == "final" and result.metrics["top1_error"] == 0.0
    assert len(result.evidence["classification"]) == len(final)


def test_a_job_for_an_unknown_part_fails_in_one_line(phased: BuiltBenchmark, tmp_path: Path) -> None:
    store = MemoryJobStore()
    runner = TrueClassRunner({})
    assert run_evaluation(request(phased, tmp_path, "finale"), store, runner) == "failed"
    assert store.fields["job-1"]["reason"] == (
        "benchmark 'toonnet' has no held-out part 'finale' (expected one of dev, final)")
    assert runner.seen == [] and "job-1" not in store.results
