"""Resolve image references to content digests through a registry's HTTP API (v2).

``parse_reference`` reads ``host[:port]/path[:tag][@sha256:...]``; a
reference must name its registry host, so it can never mean "whatever image
of that name a worker's engine happens to hold". ``RegistryClient.resolve``
fetches the manifest (manifest lists and OCI indexes are followed to this
host's platform for the size), answers the registry's Bearer challenge with
the credentials configured for that host, and returns the pinned
``host/repository@sha256:...`` with the image's size in the registry (the
sum of its compressed layers and config). Every request goes through the
address guard of ``evaluator.egress``, within one deadline per resolution,
and every manifest is hashed and checked against the digests that name it.
"""

from __future__ import annotations

import base64
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import docker.auth

from evaluator.egress import (
    AddressRefused,
    Answer,
    Deadline,
    DeadlineExceeded,
    Egress,
    EgressError,
    TooLarge,
    Unreachable,
    Unresolvable,
    no_host,
)
from evaluator.manifests import (
    ACCEPT,
    TAG_PATTERN,
    ManifestProblem,
    error_codes,
    host_platform,
    image_size,
    is_index,
    json_object,
    platform_digest,
    sha256_digest,
    token_of,
    valid_tags,
)

DOCKER_HUB_HOSTS = ("docker.io", "index.docker.io", "registry-1.docker.io")
DOCKER_HUB_API = "registry-1.docker.io"
MAX_MANIFEST_BYTES = 4 << 20
TOKEN_ANSWER_BYTES = 64 << 10  # token answers and tag lists
DEFAULT_TIMEOUT_S = 20.0

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REFERENCE = re.compile(
    rf"^(?P<name>{_COMPONENT}(?:/{_COMPONENT})*)"
    rf"(?::(?P<tag>{TAG_PATTERN}))?"
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


class RegistryOnPrivateAddress(RegistryError):
    """The reference's own registry host is on an address the guard refuses."""


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
    """Talks to any registry's v2 API with per-host credentials; one instance may be reused.

    Every request goes through ``egress`` (the address guard). One
    resolution, token requests and redirects included, gets ``timeout_s``
    in all. ``trusted`` names the registries (the platform's own) whose
    token service and redirects may lead to private addresses.
    """

    def __init__(
        self,
        credentials: CredentialSource = no_credentials,
        *,
        plain_http: Callable[[str], bool] = is_loopback_host,
        local_tokens: TokenSource | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        egress: Egress | None = None,
        trusted: Callable[[str], bool] = no_host,
    ) -> None:
        self.credentials = credentials
        self.plain_http = plain_http
        self.local_tokens = local_tokens
        self.timeout_s = timeout_s
        self.egress = egress or Egress()
        self.trusted = trusted
        self._tokens: dict[tuple[str, str], str] = {}

    def resolve(self, reference: ImageReference) -> ResolvedImage:
        """The reference's content digest and size; raises a ``RegistryError`` with the reason.

        The digest pinned is the sha256 of the manifest body received, which
        must equal the digest asked for and the ``Docker-Content-Digest``
        header; an index's chosen child is fetched by its digest and checked
        the same way.
        """
        with Deadline(self.timeout_s) as deadline:
            body, media_type = self._manifest(reference, reference.manifest_key, deadline)
            digest = sha256_digest(body)
            try:
                document = json_object(body)
                if is_index(document, media_type):
                    child = platform_digest(document)
                    if child is None:
                        raise ManifestUnknown(f"{reference}: the image has no {'/'.join(host_platform())} variant")
                    body, media_type = self._manifest(reference, child, deadline)
                    document = json_object(body)
                size = image_size(document)
            except ManifestProblem as exc:
                raise RegistryError(f"{reference}: what the registry {reference.host} serves {exc}") from None
        return ResolvedImage(reference, digest, size, media_type)

    def _manifest(self, reference: ImageReference, key: str, deadline: Deadline) -> tuple[bytes, str]:
        """The manifest body for a tag or digest, checked against the digests that name it."""
        url = f"{self._base(reference)}/v2/{reference.repository}/manifests/{key}"
        answer = self._get(reference, url, deadline, MAX_MANIFEST_BYTES)
        if answer.status == 404:
            raise ManifestUnknown(self._unknown_reason(reference, answer, deadline))
        if answer.status in (401, 403):
            raise AccessDenied(f"{reference}: the registry {reference.host} refused access (HTTP {answer.status})")
        if answer.status != 200:
            raise RegistryError(f"{reference}: the registry {reference.host} answered HTTP {answer.status}")
        digest = sha256_digest(answer.body)
        if key.startswith("sha256:") and digest != key:
            raise RegistryError(f"{reference}: the manifest the registry sent for {key} has another digest ({digest})")
        header = answer.headers.get("Docker-Content-Digest")
        if header is not None and header.strip() != digest:
            raise RegistryError(
                f"{reference}: the registry's Docker-Content-Digest header does not match the manifest it sent "
                f"(whose digest is {digest})"
            )
        return answer.body, answer.headers.get("Content-Type", "").split(";")[0].strip()

    def _unknown_reason(self, reference: ImageReference, answer: Answer, deadline: Deadline) -> str:
        """Unknown digest, repository or tag; registries answer MANIFEST_UNKNOWN for all three, so ask the tag list."""
        if reference.digest:
            return f"{reference}: the image no longer exists in the registry {reference.host} (deleted or never pushed)"
        codes = error_codes(answer.body)
        tags_list = self._get(reference, f"{self._base(reference)}/v2/{reference.repository}/tags/list", deadline,
                              TOKEN_ANSWER_BYTES)
        if "NAME_UNKNOWN" in codes or tags_list.status == 404:
            return f"{reference}: unknown repository {reference.repository} in the registry {reference.host}"
        tags = valid_tags(tags_list.body) if tags_list.status == 200 else []
        known = f" (it has {', '.join(sorted(tags)[:5])})" if tags else ""
        return f"{reference}: unknown tag {reference.tag or 'latest'} in {reference.name}{known}"

    def _base(self, reference: ImageReference) -> str:
        scheme = "http" if self.plain_http(reference.host) else "https"
        return f"{scheme}://{reference.api_host}"

    def _get(self, reference: ImageReference, url: str, deadline: Deadline, max_bytes: int) -> Answer:
        scope = f"repository:{reference.repository}:pull"
        headers = {"Accept": ACCEPT}
        token = self._tokens.get((reference.host, scope))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        answer = self._fetch(reference, url, deadline, headers, max_bytes, "registry")
        challenge = answer.headers.get("WWW-Authenticate", "")
        if answer.status == 401 and challenge:
            headers["Authorization"] = self._answer(reference, challenge, scope, deadline)
            answer = self._fetch(reference, url, deadline, headers, max_bytes, "registry")
        return answer

    def _fetch(
        self, reference: ImageReference, url: str, deadline: Deadline, headers: dict[str, str], max_bytes: int,
        party: str,
    ) -> Answer:
        """One guarded GET; ``party`` ('registry' or 'token service') words the refusal."""
        try:
            return self.egress.get(url, deadline, headers=headers, max_bytes=max_bytes,
                                   trusted=self.trusted(reference.host))
        except EgressError as exc:
            raise _refusal(reference, party, exc) from None

    def _answer(self, reference: ImageReference, challenge: str, scope: str, deadline: Deadline) -> str:
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
            token = self._fetch_token(reference, realm, {"service": service, "scope": scope}, credentials, deadline)
        self._tokens[(reference.host, scope)] = token
        return f"Bearer {token}"

    def _fetch_token(
        self, reference: ImageReference, realm: str, params: dict[str, str], credentials: Credentials | None,
        deadline: Deadline,
    ) -> str:
        """A token from the realm the challenge named, reached through the same guard as the registry."""
        if not realm.startswith(("http://", "https://")):
            raise AccessDenied(f"{reference}: the registry {reference.host} sent an unusable auth challenge")
        headers = {"Accept": "application/json"}
        if credentials:
            pair = f"{credentials.username}:{credentials.password}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        url = realm + ("&" if "?" in realm else "?") + urlencode(params)
        answer = self._fetch(reference, url, deadline, headers, TOKEN_ANSWER_BYTES, "token service")
        if answer.status != 200:
            raise AccessDenied(
                f"{reference}: the token service of the registry {reference.host} refused a token "
                f"(HTTP {answer.status})"
            )
        token = token_of(answer.body)
        if token is None:
            raise AccessDenied(
                f"{reference}: the token service of the registry {reference.host} answered without a usable token"
            )
        return token


def _refusal(reference: ImageReference, party: str, error: EgressError) -> RegistryError:
    """The one-sentence refusal for a failed request to the reference's registry or its token service."""
    host = reference.host
    if isinstance(error, AddressRefused) and party == "registry" and not error.redirected:
        return RegistryOnPrivateAddress(
            f"{reference} names a registry on a private or loopback address, which submissions may not use"
        )
    if isinstance(error, TooLarge):
        limit = f"{error.limit >> 20} MB" if error.limit >= 1 << 20 else f"{error.limit >> 10} KB"
        what = "manifest" if party == "registry" else "token answer"
        return RegistryError(f"{reference}: the {what} from {host} is larger than {limit}")
    where = f"the registry {host}" if party == "registry" else f"the token service of the registry {host}"
    if isinstance(error, DeadlineExceeded):
        return RegistryUnreachable(f"{reference}: {where} {error} for resolving a reference")
    if isinstance(error, (Unreachable, Unresolvable)):
        return RegistryUnreachable(f"{reference}: {where} {error}; check the reference's host")
    return RegistryError(f"{reference}: {where} {error}, which is refused")
