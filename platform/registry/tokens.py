"""Registry bearer tokens (distribution's token authentication specification).

The registry trusts tokens signed by the key whose self-signed certificate
is its ``rootcertbundle``. Distribution 2.8 finds the signing key from the
JWT header: an ``x5c`` chain verified against the bundle, or a ``kid`` that
must equal the *libtrust key id* of a bundle certificate's public key:
SHA-256 of the DER SubjectPublicKeyInfo, first 240 bits, base32 without
padding, in twelve groups of four joined by ``:``. Tokens carry ``kid``.
Its ``aud`` is one string (the registry's ``service``), not a list.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from django.conf import settings

from accounts.reserved import BASELINE_OWNER

ALGORITHM = "RS256"
USER_ACTIONS = ("pull", "push")
WORKER_ACTIONS = ("pull",)
BASELINE_ACTIONS = ("pull",)
_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")


class SigningKeyMissing(Exception):
    """The site has no registry signing key (the registry is not set up here)."""


@dataclass(frozen=True)
class Principal:
    """Who asks for a token: a user with the namespaces they own now (``registry.namespaces``), or the workers."""

    name: str
    namespaces: tuple[str, ...]
    is_worker: bool = False


@dataclass(frozen=True)
class Scope:
    type: str
    name: str
    actions: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> "Scope | None":
        """``repository:alice/model:pull,push``; None when malformed."""
        kind, _, rest = text.partition(":")
        name, _, actions = rest.rpartition(":")
        if not kind or not name or not actions:
            return None
        return cls(kind, name, tuple(action for action in actions.split(",") if action))


def libtrust_key_id(public_der: bytes) -> str:
    """The key id distribution's registry derives from a bundle certificate's public key."""
    encoded = base64.b32encode(hashlib.sha256(public_der).digest()[:30]).decode().rstrip("=")
    return ":".join(encoded[start:start + 4] for start in range(0, len(encoded), 4))


@lru_cache(maxsize=4)
def _load_key(path: str, modified_ns: int) -> tuple[RSAPrivateKey, str]:
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, RSAPrivateKey):
        raise SigningKeyMissing("the registry signing key is not an RSA key")
    public_der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return key, libtrust_key_id(public_der)


def signing_key() -> tuple[RSAPrivateKey, str]:
    """The private key and its key id, re-read when the file changes."""
    path = Path(settings.TOONBENCH_REGISTRY_KEY)
    try:
        return _load_key(str(path), path.stat().st_mtime_ns)
    except (OSError, ValueError):
        raise SigningKeyMissing(
            "the platform registry is not set up on this server (no signing key); ask an administrator"
        ) from None


def namespace_for(username: str) -> str | None:
    """A username is its namespace when it is a valid repository path component."""
    return username if _COMPONENT.match(username) else None


def granted(principal: Principal, scope: Scope) -> tuple[str, ...]:
    """The actions of ``scope`` this principal gets: owners push and pull their namespaces, workers pull.

    Every signed-in user may pull the bundled baselines' images (the baseline
    owner's namespace), to build on them as the starting kits say.
    """
    if scope.type != "repository":
        return ()
    if principal.is_worker:
        allowed: tuple[str, ...] = WORKER_ACTIONS
    elif any(scope.name.startswith(f"{namespace}/") for namespace in principal.namespaces):
        allowed = USER_ACTIONS
    elif scope.name.startswith(f"{BASELINE_OWNER}/"):
        allowed = BASELINE_ACTIONS
    else:
        allowed = ()
    return tuple(action for action in scope.actions if action in allowed)


def mint(subject: str, access: list[dict[str, Any]], now: float | None = None, ttl_s: float | None = None) -> str:
    """A signed token for ``subject`` with the given ``access`` list (the spec's claim set), valid ``ttl_s`` (default: the setting)."""
    key, key_id = signing_key()
    issued = int(now if now is not None else time.time())
    claims = {
        "iss": settings.TOONBENCH_REGISTRY_ISSUER,
        "sub": subject,
        "aud": settings.TOONBENCH_REGISTRY_SERVICE,
        "exp": issued + int(ttl_s if ttl_s is not None else settings.TOONBENCH_REGISTRY_TOKEN_TTL_S),
        "nbf": issued,
        "iat": issued,
        "jti": uuid.uuid4().hex,
        "access": access,
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": key_id, "typ": "JWT"})


def access_entry(scope: Scope, actions: tuple[str, ...]) -> dict[str, Any]:
    return {"type": scope.type, "name": scope.name, "actions": list(actions)}
