"""Resolve image references to content digests through a registry's HTTP API (v2).

``parse_reference`` reads ``host[:port]/path[:tag][@sha256:...]``; a
reference must name its registry host, so it can never mean "whatever image
of that name a worker's engine happens to hold". ``RegistryClient.resolve``
fetches the manifest (manifest lists and OCI indexes are followed to this
host's platform for the size), answers the registry's Bearer challenge with
the credentials configured for that host, and returns the pinned
``host/repository@sha256:...`` with the image's size in the registry (the
sum of its compressed layers and config).
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import platform
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker.auth
import requests

MANIFEST_LIST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
MANIFEST_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
)
ACCEPT = ", ".join(MANIFEST_LIST_TYPES + MANIFEST_TYPES)
DOCKER_HUB_HOSTS = ("docker.io", "index.docker.io", "registry-1.docker.io")
DOCKER_HUB_API = "registry-1.docker.io"
MAX_MANIFEST_BYTES = 4 << 20
DEFAULT_TIMEOUT_S = 20.0
MACHINE_ARCHITECTURES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REFERENCE = re.compile(
    rf"^(?P<name>{_COMPONENT}(?:/{_COMPONENT})*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)
_HOST = re.compile(r"^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:]+\])(?::[0-9]{1,5})?$")
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')
_BARE_ID = re.compile(r"^(?:sha256:)?[a-f0-9]{12,64}$")


class RegistryError(Exception):
    """The reference cannot be resolved; the message says why in one sentence."""


class BadReference(RegistryError):
    """Not a reference the platform can run (malformed, or naming no registry)."""


class RegistryUnreachable(RegistryError):
    pass


class ManifestUnknown(RegistryError):
    pass


class AccessDenied(RegistryError):
    pass


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str

    def auth_config(self) -> dict[str, str]:
        """As the Docker engine API takes them (``X-Registry-Auth``)."""
        return {"username": self.username, "password": self.password}


@dataclass(frozen=True)
class ImageReference:
    host: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        return f"{self.host}/{self.repository}"

    @property
    def api_host(self) -> str:
        return DOCKER_HUB_API if self.host in DOCKER_HUB_HOSTS else self.host

    @property
    def manifest_key(self) -> str:
        """What the manifest endpoint is asked for: the digest when pinned, else the tag."""
        return self.digest or self.tag or "latest"

    def pinned(self, digest: str) -> str:
        return f"{self.name}@{digest}"

    def __str__(self) -> str:
        return self.name + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")


@dataclass(frozen=True)
class ResolvedImage:
    reference: ImageReference
    digest: str
    size_bytes: int
    media_type: str

    @property
    def pinned(self) -> str:
        return self.reference.pinned(self.digest)

    def size_problem(self, name: str, limit_mb: float) -> str:
        """Why the image is too big to pull (its layers and config as its manifest lists them); '' if not."""
        size_mb = self.size_bytes / (1024 * 1024)
        if size_mb <= limit_mb:
            return ""
        return f"{name}: the image is {size_mb:.0f} MB in its registry, over the limit of {limit_mb:g} MB"


def names_registry(reference: str) -> bool:
    """Docker's rule: the first component is a host if it has a dot or a port, or is ``localhost``."""
    first, slash, _ = reference.partition("/")
    return bool(slash) and ("." in first or ":" in first or first == "localhost")


def parse_reference(reference: str) -> ImageReference:
    """``host/path[:tag][@digest]``; raises ``BadReference`` for anything else."""
    reference = reference.strip()
    if _BARE_ID.match(reference):
        raise BadReference(f"{reference!r} is a bare image id, which names no registry")
    if not names_registry(reference):
        raise BadReference(f"{reference!r} names no registry host")
    host, _, rest = reference.partition("/")
    match = _REFERENCE.match(rest)
    if not _HOST.match(host) or match is None:
        raise BadReference(
            f"{reference!r} is not a container image reference; expected e.g. registry.example.org/team/model:1.0"
        )
    repository = match["name"]
    if host in DOCKER_HUB_HOSTS and "/" not in repository:
        repository = f"library/{repository}"
    return ImageReference(host, repository, match["tag"], match["digest"])


def split_host(host: str) -> tuple[str, str]:
    """(name, port) of ``name[:port]`` or ``[v6][:port]``; port '' when absent."""
    name, colon, port = host.rpartition(":")
    if not colon or "]" in port or (not host.startswith("[") and ":" in name):
        return host.strip("[]"), ""
    return name.strip("[]"), port


def is_loopback_host(host: str) -> bool:
    name = split_host(host)[0]
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def same_registry(first: str, second: str) -> bool:
    """Host strings naming the same registry (``localhost:5000`` is ``127.0.0.1:5000``)."""
    if first == second:
        return True
    return is_loopback_host(first) and is_loopback_host(second) and split_host(first)[1] == split_host(second)[1]


def host_platform() -> tuple[str, str]:
    return "linux", MACHINE_ARCHITECTURES.get(platform.machine().lower(), platform.machine().lower())


class DockerConfigCredentials:
    """Credentials per registry host from a ``docker login`` config file (``~/.docker/config.json``)."""

    def __init__(self, config_file: Path | None) -> None:
        self.config = docker.auth.load_config(str(config_file)) if config_file else None

    def __call__(self, host: str) -> Credentials | None:
        if self.config is None:
            return None
        # Plain entries use lower-case keys, credential helpers capitalised ones.
        found = {key.lower(): value for key, value in (self.config.resolve_authconfig(host) or {}).items()}
        if not found.get("username"):
            return None
        return Credentials(str(found["username"]), str(found.get("password") or ""))


CredentialSource = Callable[[str], Credentials | None]
# host, service, scope -> a token minted without an HTTP round trip (the site signing for its own registry).
TokenSource = Callable[[str, str, str], str | None]


def no_credentials(host: str) -> Credentials | None:
    return None


class RegistryClient:
    """Talks to any registry's v2 API with per-host credentials; one instance may be reused."""

    def __init__(
        self,
        credentials: CredentialSource = no_credentials,
        *,
        plain_http: Callable[[str], bool] = is_loopback_host,
        local_tokens: TokenSource | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        session: requests.Session | None = None,
    ) -> None:
        self.credentials = credentials
        self.plain_http = plain_http
        self.local_tokens = local_tokens
        self.timeout_s = timeout_s
        self.session = session or requests.Session()
        self._tokens: dict[tuple[str, str], str] = {}

    def resolve(self, reference: ImageReference) -> ResolvedImage:
        """The reference's content digest and size; raises a ``RegistryError`` with the reason."""
        body, media_type, digest = self._manifest(reference, reference.manifest_key)
        if reference.digest and digest != reference.digest:
            raise RegistryError(f"{reference}: the registry answered with another digest ({digest})")
        manifest = _json(body, reference)
        if media_type in MANIFEST_LIST_TYPES or "manifests" in manifest:
            chosen = _platform_entry(manifest, reference)
            body, media_type, _ = self._manifest(reference, chosen)
            manifest = _json(body, reference)
        if int(manifest.get("schemaVersion", 0)) != 2 or "layers" not in manifest:
            raise RegistryError(
                f"{reference}: the registry serves an old (schema 1) or unknown manifest; push it with a current Docker"
            )
        size = int(manifest.get("config", {}).get("size", 0)) + sum(int(layer.get("size", 0))
                                                                   for layer in manifest["layers"])
        return ResolvedImage(reference, digest, size, media_type)

    def _manifest(self, reference: ImageReference, key: str) -> tuple[bytes, str, str]:
        url = f"{self._base(reference)}/v2/{reference.repository}/manifests/{key}"
        response = self._get(reference, url)
        if response.status_code == 404:
            raise ManifestUnknown(self._unknown_reason(reference, response))
        if response.status_code in (401, 403):
            raise AccessDenied(f"{reference}: the registry {reference.host} refused access ({_error_text(response)})")
        if response.status_code != 200:
            raise RegistryError(
                f"{reference}: the registry {reference.host} answered HTTP {response.status_code} "
                f"({_error_text(response)})"
            )
        body = response.content[: MAX_MANIFEST_BYTES + 1]
        if len(body) > MAX_MANIFEST_BYTES:
            raise RegistryError(f"{reference}: the manifest is larger than {MAX_MANIFEST_BYTES >> 20} MB")
        digest = response.headers.get("Docker-Content-Digest") or "sha256:" + hashlib.sha256(body).hexdigest()
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        return body, media_type, digest

    def _unknown_reason(self, reference: ImageReference, response: requests.Response) -> str:
        """Unknown digest, repository or tag; registries answer MANIFEST_UNKNOWN for all three, so ask the tag list."""
        if reference.digest:
            return f"{reference}: the image no longer exists in the registry {reference.host} (deleted or never pushed)"
        codes = {error.get("code") for error in _errors(response)}
        tags_list = self._get(reference, f"{self._base(reference)}/v2/{reference.repository}/tags/list")
        if "NAME_UNKNOWN" in codes or tags_list.status_code == 404:
            return f"{reference}: unknown repository {reference.repository} in the registry {reference.host}"
        try:
            tags = [str(tag) for tag in (tags_list.json().get("tags") or [])]
        except (ValueError, AttributeError):
            tags = []
        known = f" (it has {', '.join(sorted(tags)[:5])})" if tags else ""
        return f"{reference}: unknown tag {reference.tag or 'latest'} in {reference.name}{known}"

    def _base(self, reference: ImageReference) -> str:
        scheme = "http" if self.plain_http(reference.host) else "https"
        return f"{scheme}://{reference.api_host}"

    def _get(self, reference: ImageReference, url: str) -> requests.Response:
        scope = f"repository:{reference.repository}:pull"
        headers = {"Accept": ACCEPT}
        token = self._tokens.get((reference.host, scope))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = self._request(reference, url, headers)
        challenge = response.headers.get("WWW-Authenticate", "")
        if response.status_code == 401 and challenge:
            headers["Authorization"] = self._answer(reference, challenge, scope)
            response = self._request(reference, url, headers)
        return response

    def _request(self, reference: ImageReference, url: str, headers: dict[str, str]) -> requests.Response:
        try:
            return self.session.get(url, headers=headers, timeout=self.timeout_s, allow_redirects=True)
        except requests.RequestException as exc:
            raise RegistryUnreachable(
                f"the registry {reference.host} is unreachable ({type(exc).__name__}); check the reference's host"
            ) from None

    def _answer(self, reference: ImageReference, challenge: str, scope: str) -> str:
        """The Authorization header for a ``Basic`` or ``Bearer`` challenge."""
        scheme, _, params_text = challenge.partition(" ")
        credentials = self.credentials(reference.host)
        if scheme.lower() == "basic":
            if credentials is None:
                raise AccessDenied(f"{reference}: the registry {reference.host} needs credentials and none are set")
            pair = f"{credentials.username}:{credentials.password}".encode()
            return "Basic " + base64.b64encode(pair).decode()
        params = dict(_CHALLENGE_PARAM.findall(params_text))
        realm, service = params.get("realm", ""), params.get("service", "")
        token = self.local_tokens(reference.host, service, scope) if self.local_tokens else None
        if token is None:
            token = self._fetch_token(reference, realm, service, scope, credentials)
        self._tokens[(reference.host, scope)] = token
        return f"Bearer {token}"

    def _fetch_token(
        self, reference: ImageReference, realm: str, service: str, scope: str, credentials: Credentials | None
    ) -> str:
        if not realm.startswith(("http://", "https://")):
            raise AccessDenied(f"{reference}: the registry {reference.host} sent an unusable auth challenge")
        auth = (credentials.username, credentials.password) if credentials else None
        try:
            response = self.session.get(realm, params={"service": service, "scope": scope}, auth=auth,
                                        timeout=self.timeout_s)
        except requests.RequestException as exc:
            raise RegistryUnreachable(
                f"the token service of the registry {reference.host} is unreachable ({type(exc).__name__})"
            ) from None
        if response.status_code != 200:
            raise AccessDenied(
                f"{reference}: the registry {reference.host} refused a token ({_error_text(response)})"
            )
        document = response.json()
        token = document.get("token") or document.get("access_token")
        if not token:
            raise AccessDenied(f"{reference}: the token service of {reference.host} answered without a token")
        return str(token)


def _json(body: bytes, reference: ImageReference) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except ValueError:
        raise RegistryError(f"{reference}: the registry's manifest is not JSON") from None
    if not isinstance(document, dict):
        raise RegistryError(f"{reference}: the registry's manifest is not a JSON object")
    return document


def _platform_entry(index: dict[str, Any], reference: ImageReference) -> str:
    wanted_os, wanted_arch = host_platform()
    for entry in index.get("manifests", []):
        entry_platform = entry.get("platform") or {}
        if entry_platform.get("os") == wanted_os and entry_platform.get("architecture") == wanted_arch:
            return str(entry["digest"])
    raise ManifestUnknown(f"{reference}: the image has no {wanted_os}/{wanted_arch} variant")


def _errors(response: requests.Response) -> list[dict[str, Any]]:
    try:
        document = response.json()
    except ValueError:
        return []
    errors = document.get("errors") if isinstance(document, dict) else None
    return [error for error in errors if isinstance(error, dict)] if isinstance(errors, list) else []


def _error_text(response: requests.Response) -> str:
    """The registry's own words (``errors[].message``), else the HTTP reason."""
    messages = [str(error.get("message") or error.get("code") or "") for error in _errors(response)]
    text = "; ".join(message for message in messages if message) or response.reason or f"HTTP {response.status_code}"
    return text[:300]
