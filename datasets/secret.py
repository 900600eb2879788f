"""The build secret: what makes the server's held-out split impossible to rebuild from public files.

The spec's seeds are public (they ship in every bundle), and the generators
and split methods are public code. A *development* build uses those seeds
as they are, so anyone can rebuild it, test truth included. A *server* build
mixes a secret into every seed it draws from (images, ids, which item gets
which class or identity, the split, the roles and pairs), so its test truth
depends on something no participant has.

The secret comes from ``$TOONBENCH_BUILD_SECRET`` or, failing that, from
``<data root>/.build-secret`` (generated once with ``secrets.token_hex(32)``,
mode 0600). It is never written into a built folder, a manifest, a protocol
record, a bundle or ``/input``; ``protocol.json`` only says whether a build
was keyed and carries a key id (an HMAC of a constant: it tells two secrets
apart without revealing either).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

SECRET_ENV = "TOONBENCH_BUILD_SECRET"
SECRET_FILE_NAME = ".build-secret"
MIN_SECRET_CHARS = 32
SECRET_FILE_MODE = 0o600


class BuildSecretError(ValueError):
    """The configured build secret is unusable (too short, or its file unreadable)."""


def secret_file(data_root: Path) -> Path:
    return Path(data_root) / SECRET_FILE_NAME


def find_build_secret(data_root: Path) -> str | None:
    """``$TOONBENCH_BUILD_SECRET`` if set, else the secret file under ``data_root``, else None."""
    configured = os.environ.get(SECRET_ENV)
    if configured:
        return checked_secret(configured.strip(), f"${SECRET_ENV}")
    path = secret_file(data_root)
    if not path.exists():
        return None
    return checked_secret(path.read_text().strip(), str(path))


def ensure_build_secret(data_root: Path) -> str:
    """The build secret, generating ``<data_root>/.build-secret`` (mode 0600) when none exists."""
    found = find_build_secret(data_root)
    if found is not None:
        return found
    path = secret_file(data_root)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SECRET_FILE_MODE)
    except FileExistsError:  # another build made it a moment ago
        return checked_secret(path.read_text().strip(), str(path))
    with os.fdopen(handle, "w") as stream:
        stream.write(secrets.token_hex(32) + "\n")
    return checked_secret(path.read_text().strip(), str(path))


def checked_secret(value: str, where: str) -> str:
    if len(value) < MIN_SECRET_CHARS:
        raise BuildSecretError(
            f"{where}: the build secret has {len(value)} characters, expected at least {MIN_SECRET_CHARS} "
            "(python -c 'import secrets; print(secrets.token_hex(32))' makes one)"
        )
    return value


def keyed_seed(public_seed: int, secret: str | None, purpose: str) -> int:
    """The seed a build draws from: the public seed itself without a secret, else a 256-bit
    HMAC of (purpose, public seed) under the secret, so that purposes stay independent."""
    if secret is None:
        return public_seed
    digest = hmac.new(secret.encode(), f"{purpose}:{public_seed}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest, "big")


def keyed_id(item_id: str, secret: str) -> str:
    """A real-data item's id under the secret (16 hex characters, like every id)."""
    return hmac.new(secret.encode(), f"id:{item_id}".encode(), hashlib.sha256).hexdigest()[:16]


def key_id(secret: str) -> str:
    """Tells builds made with different secrets apart; an HMAC of a constant, so it reveals nothing of the secret."""
    return hmac.new(secret.encode(), b"toonbench build key id", hashlib.sha256).hexdigest()[:16]
