"""Which images a submission may run, pinned to their digest; and how workers pull them.

A submission may run an image in one of its owner's namespaces of the
platform registry (``<registry>/<owner>/...``, and ``<registry>/<team>/...``
while the owner is in that team: ``registry.namespaces``) or any reference
into a registry outside the platform. A reference that names no registry (``team/model:1``, a bare
``sha256:`` id) would mean "whatever a worker's engine holds under that
name", possibly another user's image, so it is refused with the command
that pushes it.

The site and the workers reach registries through one guarded client
(``registry_client``, ``evaluator.egress``): only the platform registry and
the operator's ``TOONBENCH_PRIVATE_REGISTRIES`` may be on private
addresses, and the platform registry's token service and redirects (the
site itself) are the operator's too. Each failed pin counts against the
owner's rate (``registry.attempts``), so failed resolutions are not free.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from evaluator.egress import Egress
from evaluator.registry_client import (
    BadReference,
    Credentials,
    DockerConfigCredentials,
    RegistryClient,
    RegistryError,
    RegistryOnPrivateAddress,
    ResolvedImage,
    is_loopback_host,
    names_registry,
    parse_reference,
    same_registry,
)
from evaluator.runners.images import PullSettings
from registry.attempts import failed_attempt_counted
from registry.namespaces import namespaces_of
from registry.tokens import Scope, SigningKeyMissing, access_entry, mint

CACHE_FILE_NAME = "image-cache.json"


class ImageRefused(Exception):
    """The reference cannot be run for this owner; the message says why and what to do."""


def is_platform_registry(host: str) -> bool:
    return same_registry(host, settings.TOONBENCH_REGISTRY_ADDR)


def worker_credentials() -> Credentials:
    return Credentials(settings.TOONBENCH_REGISTRY_WORKER_USER, settings.TOONBENCH_REGISTRY_WORKER_PASSWORD)


def credentials_for(host: str) -> Credentials | None:
    """The workers' credential for the platform registry; the operator's docker logins for the others."""
    if is_platform_registry(host):
        return worker_credentials()
    config_file = settings.TOONBENCH_REGISTRY_CREDENTIALS
    return DockerConfigCredentials(Path(config_file) if config_file else None)(host)


def local_token(host: str, service: str, scope: str) -> str | None:
    """A pull token for the platform registry signed here, when this process holds the signing key.

    Only for the platform registry's own host and service, so no other
    registry is ever handed a token that the platform registry accepts.
    """
    parsed = Scope.parse(scope)
    if not is_platform_registry(host) or service != settings.TOONBENCH_REGISTRY_SERVICE or parsed is None:
        return None
    try:
        return mint(settings.TOONBENCH_REGISTRY_WORKER_USER, [access_entry(parsed, ("pull",))])
    except SigningKeyMissing:
        return None


def plain_http(host: str) -> bool:
    return is_loopback_host(host) or host in settings.TOONBENCH_INSECURE_REGISTRIES


def is_listed_registry(host: str) -> bool:
    """A registry the operator lists as reachable on a private address (``TOONBENCH_PRIVATE_REGISTRIES``)."""
    return any(same_registry(host, allowed) for allowed in settings.TOONBENCH_PRIVATE_REGISTRIES)


def may_reach_private(host: str) -> bool:
    """Hosts the guard lets the site and workers reach on private addresses: the platform's and listed ones."""
    return is_platform_registry(host) or is_listed_registry(host)


def registry_client() -> RegistryClient:
    return RegistryClient(credentials_for, plain_http=plain_http, local_tokens=local_token,
                          timeout_s=settings.TOONBENCH_REGISTRY_TIMEOUT_S,
                          egress=Egress(may_reach_private=may_reach_private), trusted=is_platform_registry)


def push_hint(reference: str) -> str:
    return f"push it to the platform registry with `toonbench push <benchmark> {reference}`"


def pin_image(owner: AbstractBaseUser, reference: str) -> ResolvedImage:
    """The reference resolved to its digest, if ``owner`` may run it; raises ``ImageRefused``."""
    reference = reference.strip()
    try:
        parsed = parse_reference(reference)
    except BadReference as exc:
        if names_registry(reference):
            raise ImageRefused(str(exc)) from None
        raise ImageRefused(f"{exc}, so it could be any image in a worker's engine; {push_hint(reference)}") from None
    if is_platform_registry(parsed.host):
        namespaces = namespaces_of(owner)
        if not any(parsed.repository.startswith(f"{namespace}/") for namespace in namespaces):
            mine = " or ".join(f"{parsed.host}/{namespace}/" for namespace in namespaces) or "your namespace"
            raise ImageRefused(
                f"{reference} is not an image you pushed: a submission may run only images under {mine} "
                "or in a registry outside the platform"
            )
    with failed_attempt_counted(owner):
        try:
            resolved = registry_client().resolve(parsed)
        except RegistryOnPrivateAddress as exc:
            raise ImageRefused(f"{exc}; {push_hint(reference)} or use a public registry") from None
        except RegistryError as exc:
            raise ImageRefused(str(exc)) from None
        problem = resolved.size_problem(reference, settings.TOONBENCH_MAX_IMAGE_MB)
        if problem:
            raise ImageRefused(problem)
    return resolved


def pull_settings(log: Callable[[str], None] | None = None) -> PullSettings:
    """What a worker's Docker runner pulls with (caps and cache from the settings)."""
    return PullSettings(
        registry=registry_client(),
        cache_file=Path(settings.TOONBENCH_WORK_ROOT) / CACHE_FILE_NAME,
        credentials=credentials_for,
        max_image_mb=settings.TOONBENCH_MAX_IMAGE_MB,
        timeout_s=settings.TOONBENCH_PULL_TIMEOUT_S,
        cache_gb=settings.TOONBENCH_IMAGE_CACHE_GB,
        log=log,
    )
