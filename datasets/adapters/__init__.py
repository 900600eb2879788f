"""Adapters that read the real datasets in their official layouts.

An adapter is a function ``fn(root, options, classes, folder) -> list[ManifestItem]``
that reads the user's copy under ``root`` and writes the benchmark's images
under ``folder/images/`` (copied, or cropped for faces). Every problem is an
``AdapterError`` naming the file (and line) and what was expected.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from datasets.components import Component, Params
from datasets.registry import Registry

ADAPTERS: Registry[Component] = Registry("adapter")


class AdapterError(ValueError):
    """The real dataset on disk is not in the expected layout."""


def register_adapter(name: str, *, tasks: tuple[str, ...], params: type[Params]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        ADAPTERS.add(name, Component(name=name, tasks=tasks, params_model=params, fn=fn))
        return fn

    return decorator


from datasets.adapters import cartoonization, folder_per_class, icartoonface  # noqa: E402,F401  (registration)
