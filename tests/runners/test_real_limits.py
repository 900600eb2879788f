"""Container submissions through the job path with each benchmark's real limits, on this host.

The specs ask for 4 CPUs, 16 GB and a GPU; the engine refuses more CPUs than
its host has. These runs go through ``run_evaluation`` with
``load_spec(slug).limits`` untouched and must finish, record what they were
given, and show their log while the container still runs.
"""

from __future__ import annotations

import pytest

from datasets.build import build_benchmark, load_built
from datasets.spec import available_slugs, load_spec
from evaluator.jobs import EvaluationRequest, MemoryJobStore, run_evaluation
from evaluator.runners import DockerRunner
from evaluator.runners.host import MEMORY_SHARE

pytestmark = pytest.mark.docker
JOB_LABEL = "org.toonbench.test-job"


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory):
    """Every benchmark built with its tiny profile under one data root."""
    root = tmp_path_factory.mktemp("all-benchmarks")
    for slug in available_slugs():
        build_benchmark(slug, root, profile="tiny")
    return root


def expected_limits(slug: str, engine) -> dict:
    spec = load_spec(slug).limits
    info = engine.info()
    return {
        "cpus": min(spec.cpus, float(info["NCPU"])),
        "memory_gb": min(spec.memory_gb, round(info["MemTotal"] / 2**30 * MEMORY_SHARE, 2)),
        "gpus": 0,
        "gpu_devices": [],
        "timeout_s": float(spec.timeout_s),
        "pids": spec.pids,
        "output_mb": float(spec.output_mb),
    }


@pytest.mark.parametrize("slug", available_slugs())
def test_a_container_submission_finishes_with_the_benchmarks_real_limits(
    engine, contract_outputs_image, tiny_root, tmp_path, slug
):
    store = MemoryJobStore()
    request = EvaluationRequest(
        job_id=f"{slug}-1",
        slug=slug,
        kind="image",
        data_root=tiny_root,
        work_root=tmp_path / "jobs",
        extractor="seeded-inception",
        device="cpu",
    )

    status = run_evaluation(request, store, DockerRunner(contract_outputs_image))

    assert status == "finished", store.fields.get(request.job_id)
    assert store.run_info[request.job_id]["effective_limits"] == expected_limits(slug, engine)
    host = store.run_info[request.job_id]["host_info"]
    assert host["cpus"] == float(engine.info()["NCPU"]) and host["gpus"] == []
    assert set(store.results[request.job_id].metrics) >= {metric.name for metric in load_spec(slug).metrics}
    assert "outputs for" in store.logs[request.job_id]
    assert list((tmp_path / "jobs").iterdir()) == []


def test_the_toonnet_run_with_real_limits_scores_exactly(engine, contract_outputs_image, tiny_root, tmp_path):
    store = MemoryJobStore()
    request = EvaluationRequest(job_id="exact-1", slug="toonnet", kind="image", data_root=tiny_root)

    assert run_evaluation(request, store, DockerRunner(contract_outputs_image)) == "finished"

    built = load_built("toonnet", tiny_root)
    metrics = store.results["exact-1"].metrics
    # Constant scores: the 11 other classes tie the true one and ties never help (DESIGN.md §5).
    assert len(built.spec.classes) == 12
    assert metrics["top1_error"] == 1.0 and metrics["top3_error"] == 1.0


class WatchingStore(MemoryJobStore):
    """Remembers, for each log tail it is given, whether the job's container was running then."""

    def __init__(self, engine) -> None:
        super().__init__()
        self.engine = engine
        self.seen_while_running: list[str] = []

    def set_log_tail(self, job_id: str, text: str) -> None:
        super().set_log_tail(job_id, text)
        running = self.engine.containers.list(filters={"label": f"{JOB_LABEL}={job_id}", "status": "running"})
        if running:
            self.seen_while_running.append(text)


def test_the_store_sees_the_log_grow_while_the_container_runs(engine, probes_image, tiny_root):
    store = WatchingStore(engine)
    command = ["python3", "/opt/probes/probes.py", "slow_logs"]
    runner = DockerRunner(probes_image, command=command, labels={JOB_LABEL: "live-1"}, log_interval_s=0.3)
    request = EvaluationRequest(job_id="live-1", slug="toonnet", kind="image", data_root=tiny_root)

    run_evaluation(request, store, runner)

    assert len(store.seen_while_running) >= 2
    assert all("tick 0" in text for text in store.seen_while_running)
    assert "tick 15" not in store.seen_while_running[0]
    assert len(set(store.seen_while_running)) == len(store.seen_while_running)  # sent only when it grew
    assert "tick 15" in store.logs["live-1"]
