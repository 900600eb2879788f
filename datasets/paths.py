"""Where built benchmarks live. Read from the environment in one place."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def default_data_root() -> Path:
    """Folder holding built benchmarks: ``$TOONBENCH_DATA_ROOT`` or ``<repo>/data``."""
    configured = os.environ.get("TOONBENCH_DATA_ROOT")
    return Path(configured) if configured else REPO_ROOT / "data"
