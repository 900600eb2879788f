"""The registry and its types for ``datasets.adapters``; the package imports its registering modules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from datasets.components import Component, Params
from datasets.registry import Registry

ADAPTERS: Registry[Component] = Registry("adapter")


class AdapterError(ValueError):
    """The real dataset on disk is not in the expected layout."""


def register_adapter(name: str, *, tasks: tuple[str, ...], params: type[Params]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return ADAPTERS.register_with(name, lambda fn: Component(name=name, tasks=tasks, params_model=params, fn=fn))
