"""Runners: run a submission on a prepared ``/input`` and collect ``/output`` under limits.

``make_runner("docker", image=...)`` for untrusted submission images,
``make_runner("local", command=[...])`` for trusted commands.
``fit_limits`` turns a spec's limits into what a host can give (``runners.host``).
"""

from typing import Any

from evaluator.runners.base import (
    RUNNERS,
    EngineUnavailable,
    ImageUnavailable,
    RunLimits,
    Runner,
    RunnerError,
    RunResult,
    register_runner,
)
from evaluator.runners.docker_runner import CONTAINER_LABEL, DockerRunner
from evaluator.runners.host import GpuInfo, HostCannotRun, HostResources, fit_limits
from evaluator.runners.local import LocalRunner


def make_runner(kind: str, **options: Any) -> Runner:
    """A runner by kind (``"docker"``, ``"local"``, or one registered elsewhere) built with its constructor's options."""
    return RUNNERS.get(kind)(**options)


__all__ = [
    "CONTAINER_LABEL",
    "RUNNERS",
    "DockerRunner",
    "EngineUnavailable",
    "GpuInfo",
    "HostCannotRun",
    "HostResources",
    "ImageUnavailable",
    "LocalRunner",
    "RunLimits",
    "RunResult",
    "Runner",
    "RunnerError",
    "fit_limits",
    "make_runner",
    "register_runner",
]
