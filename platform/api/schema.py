"""The OpenAPI schema lists the versioned paths only: ``/api/`` serves the same views as aliases."""

from __future__ import annotations

from typing import Any

VERSION_PREFIX = "/api/v1/"


def versioned_paths_only(endpoints: list[tuple[str, str, str, Any]], **kwargs: Any) -> list[tuple[str, str, str, Any]]:
    """drf-spectacular preprocessing hook: keep the endpoints under ``/api/v1/``."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith(VERSION_PREFIX)]
