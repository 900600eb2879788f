"""Secrets generated once per installation, kept in files only their owner can read.

The embedded default's ``SECRET_KEY`` and the workers' registry password
(``TOONBENCH_REGISTRY_WORKER_PASSWORD``) when the environment sets neither.
Every process of one deployment (web server workers, evaluation worker,
``manage.py`` commands) reads the same file; the first to start creates it
atomically (written to a private temporary file, then hard-linked into
place), so processes starting together agree on one key and never read a
half-written file.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

MIN_KEY_CHARS = 50


def read_or_create_secret_key(path: Path, setting: str = "SECRET_KEY") -> str:
    """The key stored at ``path`` (mode 0600), written there first if the file does not exist.

    ``setting`` names the environment variable that replaces the file (for the message about a bad file).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return _read_key(path, setting)
    descriptor, draft = tempfile.mkstemp(prefix=".secret_key-", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(64))
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(draft)
    return _read_key(path, setting)


def _read_key(path: Path, setting: str) -> str:
    key = path.read_text().strip()
    if len(key) < MIN_KEY_CHARS:
        raise ImproperlyConfigured(
            f"the secret file {path} holds {len(key)} characters, expected at least {MIN_KEY_CHARS}; "
            f"delete it to have a new one generated, or set {setting}"
        )
    return key
