"""Every URL pattern under /api/ is in the OpenAPI schema (as its /api/v1/ path), with every method its view answers."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

# The schema and its rendered docs describe the API; they are not in it.
SELF_DESCRIBING = {"/api/v1/schema/", "/api/v1/docs/"}
UNDOCUMENTED_METHODS = {"head", "options"}


def walk(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    """(the route as written, joined with its includes' prefixes; the pattern) of every URL the site serves."""
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, route)
        else:
            yield route, entry


def openapi_path(route: str) -> str:
    """``api/benchmarks/<slug:slug>/`` as the schema writes it: ``/api/v1/benchmarks/{slug}/`` (``pk`` is ``id``)."""
    path = re.sub(r"\^|\$", "", route)
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", path).replace("\\.", ".")
    path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", path)
    path = path.replace("{pk}", "{id}")
    return "/" + (path if path.startswith("api/v1/") else "api/v1/" + path.removeprefix("api/"))


def api_routes() -> list[tuple[str, URLPattern]]:
    return [(route, pattern) for route, pattern in walk(get_resolver().url_patterns) if route.startswith("api/")]


def test_the_walk_finds_both_prefixes_and_every_app_s_api() -> None:
    routes = {route for route, _ in api_routes()}
    assert {"api/v1/submissions/<int:pk>/rerun/", "api/submissions/<int:pk>/rerun/", "api/v1/teams/mine/",
            "api/v1/benchmarks/<slug:slug>/phases/", "api/v1/benchmarks/<slug:slug>/rescore/",
            "api/registry/", "api/v1/registry/"} <= routes
    assert openapi_path(r"api/v1/^benchmarks/(?P<slug>[-\w]+)/export\.(?P<extension>csv|json)$") == (
        "/api/v1/benchmarks/{slug}/export.{extension}")


def test_every_api_url_pattern_is_in_the_schema_with_its_methods(client: Client) -> None:
    schema = client.get("/api/v1/schema/?format=json").json()["paths"]
    missing, methods_missing = [], []
    for route, pattern in api_routes():
        path = openapi_path(route)
        if path in SELF_DESCRIBING:
            continue
        if path not in schema:
            missing.append(f"{route} -> {path}")
            continue
        view = getattr(pattern.callback, "cls", None)
        answered = {name for name in view.http_method_names if hasattr(view, name)} - UNDOCUMENTED_METHODS
        methods_missing += [f"{path} {name}" for name in sorted(answered - set(schema[path]))]
    assert missing == [] and methods_missing == []


def test_the_schema_lists_only_versioned_paths(client: Client) -> None:
    paths = client.get("/api/schema/?format=json").json()["paths"]
    assert paths and all(path.startswith("/api/v1/") for path in paths)
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/submissions/{id}/"])
    assert "post" in paths["/api/v1/submissions/{id}/rerun/"]
