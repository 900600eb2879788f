"""Limits fitted to the host: the specs' real limits, GPU requirements, pinned GPU device ids."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from datasets.spec import available_slugs, load_spec
from datasets.spec_models import Limits
from evaluator.jobs import EvaluationRequest, MemoryJobStore, run_evaluation
from evaluator.runners import DockerRunner, RunLimits
from evaluator.runners.base import GIGABYTE
from evaluator.runners.host import (
    GpuInfo,
    HostCannotRun,
    HostResources,
    fit_limits,
    limits_record,
    parse_gpu_ids,
    parse_nvidia_smi,
)

TWO_CORES = HostResources(cpus=2.0, memory_bytes=4 * GIGABYTE, name="small", engine="Docker 20.10")
H200 = GpuInfo("0", "NVIDIA H200", "550.54.15")
SECOND_H200 = GpuInfo("1", "NVIDIA H200", "550.54.15")
GPU_HOST = HostResources(cpus=16.0, memory_bytes=128 * GIGABYTE, gpus=(H200, SECOND_H200), gpus_pinned=True)


@pytest.mark.parametrize("slug", available_slugs())
def test_each_benchmarks_real_limits_fit_a_two_core_host(slug):
    spec_limits = load_spec(slug).limits

    limits = fit_limits(spec_limits, TWO_CORES)

    assert spec_limits.cpus > 2 and spec_limits.memory_gb > 3
    assert (limits.cpus, limits.memory_gb, limits.gpus, limits.gpu_ids) == (2.0, 3.0, 0, ())
    assert (limits.timeout_s, limits.pids, limits.output_mb) == (
        spec_limits.timeout_s,
        spec_limits.pids,
        spec_limits.output_mb,
    )


def test_a_big_host_gives_exactly_the_spec_and_the_pinned_devices():
    spec_limits = load_spec("toonnet").limits

    limits = fit_limits(spec_limits, GPU_HOST)

    assert (limits.cpus, limits.memory_gb, limits.gpus, limits.gpu_ids) == (4.0, 16.0, 1, ("0",))
    record = limits_record(limits, GPU_HOST)
    assert record["gpu_devices"] == [{"device_id": "0", "model": "NVIDIA H200", "driver": "550.54.15"}]
    assert record["output_mb"] == spec_limits.output_mb


def test_a_required_gpu_on_a_host_without_one_is_refused_with_the_requirement():
    required = load_spec("toonnet").limits.model_copy(update={"gpu_required": True})

    with pytest.raises(HostCannotRun) as refused:
        fit_limits(required, TWO_CORES, benchmark="toonnet")

    assert str(refused.value) == (
        "toonnet requires a GPU (limits.gpu_required) and this worker has none (2 CPUs, 4.0 GB memory, no GPU)"
    )
    assert fit_limits(required, GPU_HOST).gpus == 1


def test_the_gpu_requirement_leaves_existing_spec_hashes_alone():
    spec = load_spec("toonnet")
    required = spec.model_copy(update={"limits": spec.limits.model_copy(update={"gpu_required": True})})

    assert "gpu_required" not in spec.model_dump()["limits"]
    assert required.model_dump()["limits"]["gpu_required"] is True
    assert required.spec_hash() != spec.spec_hash()
    with pytest.raises(ValueError, match="limits.gpu_required: a required GPU needs limits.gpus of at least 1"):
        Limits(gpu_required=True, gpus=0)


def test_nvidia_smi_rows_and_pinned_ids_are_parsed():
    printed = "0, NVIDIA H200, 550.54.15\n1, NVIDIA H200, 550.54.15\n\nNo devices were found\n"

    assert parse_nvidia_smi(printed) == (H200, SECOND_H200)
    assert parse_gpu_ids(" 0, 1 ,") == ("0", "1")
    assert parse_gpu_ids("") == ()


def options_for(runner: DockerRunner, limits: RunLimits) -> list:
    folder = Path("/nonexistent")
    return runner.container_options(folder, folder, limits).get("device_requests", [])


def test_a_pinned_worker_requests_exactly_its_device_ids_never_more_than_the_spec():
    pinned = DockerRunner("any", client=object(), gpu_ids=["1", "0"], host=GPU_HOST)
    one = RunLimits(timeout_s=1, memory_gb=1, cpus=1, pids=8, gpus=1, output_mb=1)
    three = RunLimits(timeout_s=1, memory_gb=1, cpus=1, pids=8, gpus=3, output_mb=1)

    [request] = options_for(pinned, one)
    assert (request["DeviceIDs"], request["Count"], request["Capabilities"]) == (["1"], 0, [["gpu"]])
    assert options_for(pinned, three)[0]["DeviceIDs"] == ["1", "0"]
    fitted = fit_limits(load_spec("toonnet").limits, GPU_HOST)
    assert options_for(pinned, fitted)[0]["DeviceIDs"] == ["0"]


def test_an_unpinned_gpu_worker_requests_a_count():
    unpinned = DockerRunner("any", client=object(), host=HostResources(8.0, 64 * GIGABYTE, gpus=(H200,)))
    fitted = fit_limits(load_spec("icartoonface").limits, unpinned.host_resources())

    [request] = options_for(unpinned, fitted)
    assert (request["Count"], request["DeviceIDs"]) == (1, [])


@pytest.mark.docker
def test_the_engine_records_the_pinned_device_request(engine, uniform_scores_image, tmp_path):
    runner = DockerRunner(uniform_scores_image, gpu_ids=["0"], host=GPU_HOST)
    fitted = fit_limits(load_spec("toonnet").limits, GPU_HOST)
    options = runner.container_options(tmp_path, tmp_path, fitted)
    options["nano_cpus"] = int(1e9)  # this engine's host may have fewer CPUs than GPU_HOST says
    container = engine.containers.create(engine.images.get(uniform_scores_image).id, **options)
    try:
        recorded = container.attrs["HostConfig"]["DeviceRequests"]
    finally:
        container.remove(force=True)

    assert [(r["DeviceIDs"], r["Count"], r["Capabilities"]) for r in recorded] == [(["0"], 0, [["gpu"]])]


@pytest.mark.docker
def test_a_gpu_required_benchmark_fails_at_once_on_this_host(engine, uniform_scores_image, tiny_toonnet, monkeypatch):
    from datasets.build import load_built

    def with_required_gpu(slug, root):
        built = load_built(slug, root)
        limits = built.spec.limits.model_copy(update={"gpu_required": True})
        return dataclasses.replace(built, spec=built.spec.model_copy(update={"limits": limits}))

    monkeypatch.setattr("evaluator.jobs.load_built", with_required_gpu)
    runner = DockerRunner(uniform_scores_image)
    if runner.host_resources().gpus:
        pytest.skip("this host has a GPU")
    store = MemoryJobStore()
    request = EvaluationRequest(job_id="gpu-1", slug="toonnet", kind="image", data_root=tiny_toonnet.folder.parent)

    assert run_evaluation(request, store, runner) == "failed"
    reason = store.fields["gpu-1"]["reason"]
    assert reason.startswith("toonnet requires a GPU (limits.gpu_required) and this worker has none (")
    assert "gpu-1" not in store.logs and "gpu-1" not in store.run_info  # nothing ran
