"""The predict step runs on the device the runner gave the container (``TOONBENCH_DEVICE``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from baselines.common.device import choose_device
from baselines.evaluation import run_prediction
from baselines.registry import get_baseline
from evaluator.runners.base import RunLimits
from evaluator.runners.docker_runner import DockerRunner
from evaluator.runners.host import GpuInfo, HostResources

GIGABYTE = 1024**3
LIMITS = RunLimits(timeout_s=1, memory_gb=1, cpus=1, pids=8, gpus=1, output_mb=1)


@pytest.mark.parametrize(("requested", "cuda", "expected"), [
    (None, False, "cpu"), ("", True, "cuda"), ("cpu", True, "cpu"), ("cuda", True, "cuda"), ("CUDA:1", True, "cuda:1"),
])
def test_the_device_is_the_one_asked_for_else_cuda_where_torch_sees_it(requested, cuda, expected):
    assert choose_device(requested, cuda) == expected


@pytest.mark.parametrize(("requested", "reason"), [
    ("cuda", "TOONBENCH_DEVICE='cuda' but torch sees no CUDA device in this container"),
    ("tpu", "TOONBENCH_DEVICE='tpu': expected cpu, cuda or cuda:N"),
    ("cudax", "TOONBENCH_DEVICE='cudax': expected cpu, cuda or cuda:N"),
])
def test_a_device_torch_cannot_serve_is_refused_in_one_line(requested, reason):
    with pytest.raises(ValueError) as refused:
        choose_device(requested, cuda_available=False)
    assert str(refused.value) == reason


def test_the_docker_runner_tells_the_container_which_device_it_was_given():
    folder = Path("/nonexistent")
    gpu_host = HostResources(8.0, 64 * GIGABYTE, gpus=(GpuInfo("0", "NVIDIA H100 80GB HBM3", "550.54"),))
    with_gpu = DockerRunner("any", client=object(), host=gpu_host).container_options(folder, folder, LIMITS)
    without = DockerRunner("any", client=object(), host=HostResources(2.0, 8 * GIGABYTE)).container_options(folder, folder, LIMITS)

    assert (with_gpu["environment"]["TOONBENCH_DEVICE"], len(with_gpu["device_requests"])) == ("cuda", 1)
    assert (without["environment"]["TOONBENCH_DEVICE"], "device_requests" in without) == ("cpu", False)


def test_a_learned_baseline_told_cuda_without_a_gpu_fails_with_the_reason_and_runs_on_cpu_when_told(trained, tmp_path, monkeypatch):
    baseline = get_baseline("icartoonface-softmax")
    built, checkpoint = trained(baseline.name)

    monkeypatch.setenv("TOONBENCH_DEVICE", "cuda")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(RuntimeError) as failed:
        run_prediction(baseline, built, checkpoint, tmp_path / "cuda")
    assert "TOONBENCH_DEVICE='cuda' but torch sees no CUDA device in this container" in str(failed.value)

    monkeypatch.setenv("TOONBENCH_DEVICE", "cpu")
    on_cpu = np.load(run_prediction(baseline, built, checkpoint, tmp_path / "cpu") / "embeddings.npy")
    monkeypatch.delenv("TOONBENCH_DEVICE")
    default = np.load(run_prediction(baseline, built, checkpoint, tmp_path / "default") / "embeddings.npy")
    assert on_cpu.ndim == 2 and on_cpu.shape[0] > 0
    np.testing.assert_array_equal(on_cpu, default)
