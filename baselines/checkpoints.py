"""Where trained baselines keep their weights, keyed by the protocol they were trained on.

``<root>/<benchmark>/<baseline>/<protocol_hash>.pt`` with ``root`` =
``$TOONBENCH_CHECKPOINTS`` or ``<repo>/var/checkpoints``: a later run on the
same frozen protocol reuses the file; a changed protocol trains a new one.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

REPO_ROOT = Path(__file__).resolve().parent.parent


def checkpoint_root() -> Path:
    configured = os.environ.get("TOONBENCH_CHECKPOINTS")
    return Path(configured) if configured else REPO_ROOT / "var" / "checkpoints"


def checkpoint_path(benchmark: str, baseline: str, protocol_hash: str, root: Path | None = None) -> Path:
    return Path(root or checkpoint_root()) / benchmark / baseline / f"{protocol_hash}.pt"


def save_checkpoint(path: Path, payload: dict[str, Any]) -> Path:
    """Write atomically (temporary file, then rename) so a killed run leaves no half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    torch.save(payload, partial)
    partial.replace(path)
    return path


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Load a checkpoint this package wrote (it may hold a pickled scikit-learn model)."""
    if not Path(path).exists():
        raise FileNotFoundError(f"{path}: no checkpoint; train it with: python -m baselines train")
    return torch.load(path, map_location="cpu", weights_only=False)


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@dataclass(frozen=True)
class TrainContext:
    """What a baseline's ``train`` function gets: the built benchmark and where to write.

    ``require(name)`` returns another baseline's checkpoint on the same
    protocol, training it first when missing (the optimized illustration
    network starts from the plain one, NPN reuses the plain ToonNet CNN).
    """

    built: Any
    checkpoint: Path
    root: Path

    @property
    def profile(self) -> str:
        return str(getattr(self.built.spec, "profile", "default"))

    def require(self, baseline: str) -> Path:
        from baselines.registry import ensure_checkpoint, get_baseline

        return ensure_checkpoint(get_baseline(baseline), self.built, self.root)
