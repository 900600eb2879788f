"""The device a baseline's predict step runs on.

The Docker runner tells a container which device it was given
(``TOONBENCH_DEVICE``: ``cuda`` when the worker passed it a GPU, else
``cpu``); ``run_predict`` chooses once and every loaded network and batch
follows. Training never chooses, so it stays on the CPU, seeded and
reproducible. Devices are torch's names (``cpu``, ``cuda:0``), so this
module loads without torch, as the image filters do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn

DEVICE_VARIABLE = "TOONBENCH_DEVICE"
_chosen = "cpu"


def choose_device(requested: str | None, cuda_available: bool) -> str:
    """``requested`` (``cpu``, ``cuda`` or ``cuda:N``), else CUDA when torch sees it; a CUDA request torch cannot serve is an error."""
    name = (requested or "").strip().lower()
    if not name:
        return "cuda" if cuda_available else "cpu"
    if name != "cpu" and name != "cuda" and not (name.startswith("cuda:") and name[5:].isdigit()):
        raise ValueError(f"{DEVICE_VARIABLE}={requested!r}: expected cpu, cuda or cuda:N")
    if name.startswith("cuda") and not cuda_available:
        raise ValueError(f"{DEVICE_VARIABLE}={requested!r} but torch sees no CUDA device in this container")
    return name


def use_device(name: str) -> None:
    global _chosen
    _chosen = name


def current_device() -> str:
    return _chosen


def on_device(module: nn.Module) -> nn.Module:
    """``module`` moved to the chosen device (a no-op on the CPU)."""
    return module.to(_chosen)
