"""What a worker's host can give a submission, and the limits fitted to it.

A benchmark spec's ``cpus``, ``memory_gb`` and ``gpus`` are the most a
submission may use. ``fit_limits`` gives it ``min(spec, host)``:

- CPUs: at most the host's CPUs (the engine refuses more);
- memory: at most ``MEMORY_SHARE`` (75 %) of the host's memory, so the
  worker, the engine and the ``/output`` file system (which lives in memory)
  keep room beside the container;
- GPUs: at most the GPUs this worker may use (all it sees, or the device ids
  an operator pinned it to with ``TOONBENCH_GPUS``).

A hard requirement the host cannot meet (``limits.gpu_required`` on a host
without GPUs) raises ``HostCannotRun`` with a sentence naming the
requirement and what the host has: such a worker does not take the job.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from evaluator.runners.base import GIGABYTE, RunLimits

MEMORY_SHARE = 0.75
NVIDIA_SMI_TIMEOUT_S = 10
NVIDIA_QUERY = ["nvidia-smi", "--query-gpu=index,name,driver_version", "--format=csv,noheader"]


class HostCannotRun(ValueError):
    """This worker's host cannot meet a benchmark's hard requirement; the message says which."""


@dataclass(frozen=True)
class GpuInfo:
    """One GPU as the driver reports it: device id (index), model and driver version."""

    device_id: str
    model: str
    driver: str


@dataclass(frozen=True)
class HostResources:
    """What the host gives containers: CPUs, memory in bytes, the GPUs this worker may hand out.

    ``gpus_pinned`` is true when an operator named the device ids; then those
    exact ids are passed to the container.
    """

    cpus: float
    memory_bytes: int
    gpus: tuple[GpuInfo, ...] = ()
    gpus_pinned: bool = False
    name: str = ""
    engine: str = ""

    @property
    def memory_gb(self) -> float:
        return self.memory_bytes / GIGABYTE

    def to_json(self) -> dict[str, Any]:
        """What a result records about the host (no paths)."""
        return {
            "name": self.name,
            "engine": self.engine,
            "cpus": self.cpus,
            "memory_gb": round(self.memory_gb, 2),
            "gpus": [asdict(gpu) for gpu in self.gpus],
            "gpus_pinned": self.gpus_pinned,
        }


def fit_limits(limits: Any, host: HostResources, *, benchmark: str = "this benchmark", **overrides: Any) -> RunLimits:
    """The run limits for a spec's ``limits`` on ``host``: each at most what the host has.

    Raises ``HostCannotRun`` when the spec requires a GPU and the host has none.
    """
    wanted = RunLimits.from_spec(limits, **overrides)
    if getattr(limits, "gpu_required", False) and not host.gpus:
        raise HostCannotRun(
            f"{benchmark} requires a GPU (limits.gpu_required) and this worker has none "
            f"({host.cpus:g} CPUs, {host.memory_gb:.1f} GB memory, no GPU)"
        )
    gpus = min(wanted.gpus, len(host.gpus))
    device_ids = tuple(gpu.device_id for gpu in host.gpus[:gpus]) if host.gpus_pinned else ()
    return replace(
        wanted,
        cpus=min(wanted.cpus, host.cpus),
        memory_gb=min(wanted.memory_gb, round(host.memory_gb * MEMORY_SHARE, 2)),
        gpus=gpus,
        gpu_ids=device_ids,
    )


def limits_record(limits: RunLimits, host: HostResources) -> dict[str, Any]:
    """What a result records about the limits it ran under (GPU models included)."""
    chosen = [gpu for gpu in host.gpus if gpu.device_id in limits.gpu_ids] if limits.gpu_ids else host.gpus
    return {
        "cpus": limits.cpus,
        "memory_gb": limits.memory_gb,
        "gpus": limits.gpus,
        "gpu_devices": [asdict(gpu) for gpu in chosen[: limits.gpus]],
        "timeout_s": limits.timeout_s,
        "pids": limits.pids,
        "output_mb": limits.output_mb,
    }


def parse_gpu_ids(text: str) -> tuple[str, ...]:
    """``"0,1"`` -> ``("0", "1")``; blank means no pinning."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def parse_nvidia_smi(text: str) -> tuple[GpuInfo, ...]:
    """Rows of ``index, name, driver_version`` as nvidia-smi's CSV query prints them."""
    gpus = []
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.split(",")]
        if len(cells) == 3 and cells[0].isdigit():
            gpus.append(GpuInfo(*cells))
    return tuple(gpus)


def detect_gpus(pinned: Sequence[str] = ()) -> tuple[tuple[GpuInfo, ...], bool]:
    """The GPUs of this machine that containers can use, restricted to ``pinned`` ids when given.

    Needs the NVIDIA driver (``nvidia-smi``) and the container toolkit that
    Docker's device requests use; without them the host has no GPUs.
    """
    if shutil.which("nvidia-smi") is None or not host_has_gpu_toolkit():
        return (), bool(pinned)
    try:
        done = subprocess.run(NVIDIA_QUERY, capture_output=True, text=True, timeout=NVIDIA_SMI_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired):
        return (), bool(pinned)
    found = parse_nvidia_smi(done.stdout) if done.returncode == 0 else ()
    if not pinned:
        return found, False
    by_id = {gpu.device_id: gpu for gpu in found}
    return tuple(by_id[device] for device in pinned if device in by_id), True


def host_has_gpu_toolkit() -> bool:
    """NVIDIA devices plus the container toolkit that Docker's GPU device requests need."""
    return Path("/dev/nvidiactl").exists() and shutil.which("nvidia-container-cli") is not None


def local_host(pinned_gpus: Sequence[str] = ()) -> HostResources:
    """This machine, as the operating system reports it (for runners without an engine)."""
    gpus, pinned = detect_gpus(pinned_gpus)
    return HostResources(
        cpus=float(len(os.sched_getaffinity(0))),
        memory_bytes=_meminfo_total(),
        gpus=gpus,
        gpus_pinned=pinned,
        name=os.uname().nodename,
    )


def engine_host(info: dict[str, Any], pinned_gpus: Sequence[str] = ()) -> HostResources:
    """The engine's host from ``docker info`` (``NCPU``, ``MemTotal``), GPUs from this machine."""
    gpus, pinned = detect_gpus(pinned_gpus)
    cpus = float(info.get("NCPU") or len(os.sched_getaffinity(0)))
    memory = int(info.get("MemTotal") or _meminfo_total())
    engine = f"Docker {info['ServerVersion']}" if info.get("ServerVersion") else "Docker"
    return HostResources(cpus, memory, gpus, pinned, str(info.get("Name", "")), engine)


def _meminfo_total() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
