"""Checkpoint files: written atomically, read back on the CPU (see ``baselines.checkpoints`` for where they live)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import torch


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
