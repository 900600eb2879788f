"""A runner registered in a test runs a job through ``run_evaluation`` like a built-in one (docs/extending.md)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from datasets.build import BuiltBenchmark
from datasets.registry import RegistryError
from evaluator.jobs import EvaluationRequest, MemoryJobStore, run_evaluation
from evaluator.runners import RUNNERS, RunLimits, Runner, RunResult, make_runner, register_runner
from evaluator.runners.base import EndedRun, judge_run
from evaluator.runners.host import local_host
from evaluator.status import RunOutcome


class InProcessRunner(Runner):
    """Writes uniform scores for every input item in this process (a toonnet classification submission)."""

    def __init__(self, score: float = 1.0) -> None:
        self.score = score

    def host_resources(self) -> Any:
        return local_host()

    def run(self, input_dir: Path, output_dir: Path, limits: RunLimits, *, cancel: threading.Event | None = None,
            heartbeat: Any = None, on_log: Any = None) -> RunResult:
        manifest = json.loads((Path(input_dir) / "manifest.json").read_text())
        Path(output_dir).mkdir(parents=True, exist_ok=True)
        scores = np.full((len(manifest["items"]), len(manifest["classes"])), self.score, dtype=np.float32)
        np.save(Path(output_dir) / "scores.npy", scores)
        return judge_run(EndedRun(None, 0, False, "wrote scores\n", 0.0), Path(output_dir), limits)


@pytest.fixture
def in_process_kind() -> Any:
    register_runner("in-process-test")(InProcessRunner)
    yield "in-process-test"
    RUNNERS._entries.pop("in-process-test")


def test_a_registered_runner_is_made_by_kind_and_scores_a_real_benchmark(
    in_process_kind: str, tiny_toonnet: BuiltBenchmark, tmp_path: Path
) -> None:
    runner = make_runner(in_process_kind, score=0.5)
    assert isinstance(runner, InProcessRunner) and runner.kind == in_process_kind and runner.score == 0.5
    store = MemoryJobStore()
    request = EvaluationRequest("job-1", tiny_toonnet.spec.slug, "image", tiny_toonnet.folder.parent,
                                protocol_hash=tiny_toonnet.protocol_hash, work_root=tmp_path / "work")
    assert run_evaluation(request, store, runner) == "finished", store.fields
    assert set(store.results["job-1"].metrics) == {metric.name for metric in tiny_toonnet.spec.metrics}
    assert store.logs["job-1"] == "wrote scores\n"


def test_an_unknown_runner_kind_names_the_known_ones(in_process_kind: str) -> None:
    with pytest.raises(RegistryError, match=r"unknown runner 'in-process'; did you mean 'in-process-test'"):
        make_runner("in-process")


def test_a_kind_registered_twice_is_refused(in_process_kind: str) -> None:
    with pytest.raises(RegistryError, match="runner 'in-process-test' is registered twice"):
        register_runner(in_process_kind)(InProcessRunner)
    assert RUNNERS.get(in_process_kind) is InProcessRunner and RunOutcome.FINISHED == "finished"
