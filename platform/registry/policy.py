"""Which images a submission may run, pinned to their digest; and how workers pull them.

A submission may run an image its owner pushed to the platform registry
(``<registry>/<owner>/...``) or any reference into a registry outside the
platform. A reference that names no registry (``team/model:1``, a bare
``sha256:`` id) would mean "whatever a worker's engine holds under that
name", possibly another user's image, so it is refused with the command
that pushes it.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from evaluator.registry_client import (
    BadReference,
    Credentials,
    DockerConfigCredentials,
    RegistryClient,
    RegistryError,
    ResolvedImage,
    is_loopback_host,
    names_registry,
    parse_reference,
    same_registry,
    split_host,
)
from evaluator.runners.images import PullSettings
from registry.tokens import Scope, SigningKeyMissing, access_entry, mint, namespace_for

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


def registry_client() -> RegistryClient:
    return RegistryClient(credentials_for, plain_http=plain_http, local_tokens=local_token,
                          timeout_s=settings.TOONBENCH_REGISTRY_TIMEOUT_S)


def names_private_address(host: str) -> bool:
    """True when ``host`` resolves to a loopback, private, link-local or otherwise non-public address.

    The site contacts the registry a participant names; without this check a
    reference could make it probe services inside the operator's network.
    A name that does not resolve is left to the registry client, which
    reports it as unreachable.
    """
    name, port = split_host(host)
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(name, int(port or 443), proto=socket.IPPROTO_TCP)}
    except (OSError, ValueError):
        return False
    return any(not ipaddress.ip_address(address.split("%")[0]).is_global for address in addresses)


def may_contact(host: str) -> bool:
    """The platform registry, an operator-listed private registry, or a registry on a public address."""
    listed = any(same_registry(host, allowed) for allowed in settings.TOONBENCH_PRIVATE_REGISTRIES)
    return is_platform_registry(host) or listed or not names_private_address(host)


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
        namespace = namespace_for(owner.get_username())
        if namespace is None or not parsed.repository.startswith(f"{namespace}/"):
            mine = f"{parsed.host}/{namespace}/" if namespace else "your namespace"
            raise ImageRefused(
                f"{reference} is not an image you pushed: a submission may run only images under {mine} "
                "or in a registry outside the platform"
            )
    elif not may_contact(parsed.host):
        raise ImageRefused(
            f"{reference} names a registry on a private or loopback address, which submissions may not use; "
            f"{push_hint(reference)} or use a public registry"
        )
    try:
        resolved = registry_client().resolve(parsed)
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
