"""Reading what a registry answers: image manifests, indexes, error lists, tag lists, token answers.

Each reader takes the raw body and either returns what the platform needs
or raises ``ManifestProblem`` with a fragment in the format's own words
(field names, never the registry's text), so a malformed answer is always
a one-sentence refusal, never a crash.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
from typing import Any

from pydantic import BaseModel, Field, ValidationError

MANIFEST_LIST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
MANIFEST_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
)
ACCEPT = ", ".join(MANIFEST_LIST_TYPES + MANIFEST_TYPES)
MACHINE_ARCHITECTURES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
DIGEST_PATTERN = r"^sha256:[a-f0-9]{64}$"
TAG_PATTERN = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"

_TAG = re.compile(rf"^{TAG_PATTERN}$")
_TOKEN = re.compile(r"^[A-Za-z0-9._~+/=-]{1,16384}$")  # fit for an Authorization header as it is


class ManifestProblem(Exception):
    """The answer is not what the format says; the message is a fragment such as 'is not JSON'."""


class Descriptor(BaseModel):
    """A content descriptor as image manifests and indexes list them (other fields are ignored)."""

    digest: str = Field(pattern=DIGEST_PATTERN)
    size: int = Field(ge=0)


class Platform(BaseModel):
    os: str = ""
    architecture: str = ""


class IndexEntry(Descriptor):
    platform: Platform = Platform()


class ImageIndex(BaseModel):
    manifests: list[IndexEntry]


class ImageManifest(BaseModel):
    config: Descriptor
    layers: list[Descriptor]


def sha256_digest(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def host_platform() -> tuple[str, str]:
    return "linux", MACHINE_ARCHITECTURES.get(platform.machine().lower(), platform.machine().lower())


def json_object(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except ValueError:
        raise ManifestProblem("is not JSON") from None
    if not isinstance(document, dict):
        raise ManifestProblem("is not a JSON object")
    return document


def is_index(document: dict[str, Any], media_type: str) -> bool:
    return media_type in MANIFEST_LIST_TYPES or "manifests" in document


def platform_digest(index: dict[str, Any]) -> str | None:
    """The digest of the index's entry for this host's platform; None when it has none."""
    try:
        entries = ImageIndex.model_validate(index).manifests
    except ValidationError as exc:
        raise ManifestProblem(f"is a malformed image index ({_first_problem(exc)})") from None
    wanted_os, wanted_arch = host_platform()
    for entry in entries:
        if entry.platform.os == wanted_os and entry.platform.architecture == wanted_arch:
            return entry.digest
    return None


def image_size(manifest: dict[str, Any]) -> int:
    """The sizes the image manifest declares for its config and layers, added up."""
    if manifest.get("schemaVersion") != 2 or "layers" not in manifest:
        raise ManifestProblem("is an old (schema 1) or unknown manifest; push it with a current Docker")
    try:
        parsed = ImageManifest.model_validate(manifest)
    except ValidationError as exc:
        raise ManifestProblem(f"is a malformed manifest ({_first_problem(exc)})") from None
    return parsed.config.size + sum(layer.size for layer in parsed.layers)


def _first_problem(error: ValidationError) -> str:
    """Where the first problem is, in the format's field names, and pydantic's kind of problem."""
    first = error.errors()[0]
    return f"{'.'.join(str(part) for part in first['loc']) or 'the document'}: {first['type']}"


def error_codes(body: bytes) -> set[str]:
    """The ``errors[].code`` values of a registry's error answer (empty when it has none)."""
    try:
        errors = json_object(body).get("errors")
    except ManifestProblem:
        return set()
    if not isinstance(errors, list):
        return set()
    return {error["code"] for error in errors if isinstance(error, dict) and isinstance(error.get("code"), str)}


def valid_tags(body: bytes) -> list[str]:
    """The tag list's entries that are valid tags, so nothing but tag names is ever quoted back."""
    try:
        tags = json_object(body).get("tags")
    except ManifestProblem:
        return []
    return [tag for tag in tags if isinstance(tag, str) and _TAG.match(tag)] if isinstance(tags, list) else []


def token_of(body: bytes) -> str | None:
    """The token of a token service's JSON answer; None when it is not JSON or holds no usable token."""
    try:
        document = json_object(body)
    except ManifestProblem:
        return None
    token = document.get("token") or document.get("access_token")
    return token if isinstance(token, str) and _TOKEN.match(token) else None
