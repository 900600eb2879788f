"""Deterministic synthetic generators: the embedded default data (DESIGN.md §2).

A generator is a function ``fn(params, classes, seed, folder) -> list[ManifestItem]``
that writes images under ``folder/images/`` and returns the items with their
truth (``sha256`` and ``split`` left empty: building fills them). The same
params and seed give byte-identical files, in any process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from datasets.components import Component
from datasets.registry import Registry

GENERATORS: Registry[Component] = Registry("generator")


def register_generator(name: str, *, tasks: tuple[str, ...], params: type[BaseModel]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        GENERATORS.add(name, Component(name=name, tasks=tasks, params_model=params, fn=fn))
        return fn

    return decorator


from datasets.generators import faces, glyphs, photos, toon_objects  # noqa: E402,F401  (registration)
