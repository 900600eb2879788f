"""Where the client keeps its server URL and API token.

``~/.config/toonbench/config.json`` (or ``$XDG_CONFIG_HOME/toonbench/``,
or the file named by ``$TOONBENCH_CONFIG``). The server can always be
overridden with ``--server`` or ``$TOONBENCH_SERVER``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

DEFAULT_SERVER = "http://127.0.0.1:8000"


def config_path() -> Path:
    if os.environ.get("TOONBENCH_CONFIG"):
        return Path(os.environ["TOONBENCH_CONFIG"])
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "toonbench" / "config.json"


def load_config() -> dict[str, Any]:
    path = config_path()
    if not path.exists():
        return {}
    try:
        return dict(json.loads(path.read_text()))
    except (json.JSONDecodeError, TypeError, ValueError) as exc:
        raise SystemExit(f"{path}: not a valid JSON object ({exc}); delete it and run `toonbench login` again") from None


def save_config(config: dict[str, Any]) -> Path:
    """Write the config readable by its owner only: it holds an API token."""
    return write_private_json(config_path(), config)


def write_private_json(path: Path, document: dict[str, Any]) -> Path:
    """``document`` as indented JSON in a file only its owner may read (mode 0600 from its creation)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(handle, "w") as stream:
        json.dump(document, stream, indent=2, sort_keys=True)
        stream.write("\n")
    return path


def server_url(explicit: str | None, config: dict[str, Any]) -> str:
    url = explicit or os.environ.get("TOONBENCH_SERVER") or config.get("server") or DEFAULT_SERVER
    return str(url).rstrip("/")
