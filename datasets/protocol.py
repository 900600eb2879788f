"""Split methods: turn built items into a frozen protocol (splits and roles).

A split method is ``fn(items, params, seed, folder) -> SplitAssignment``; it
must be deterministic for the same items, params and seed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from datasets.components import Component
from datasets.manifest import ManifestItem, Roles
from datasets.registry import Registry

SPLIT_METHODS: Registry[Component] = Registry("split method")


@dataclass(frozen=True)
class SplitAssignment:
    splits: dict[str, str]
    roles: Roles | None = None


def register_split(name: str, *, tasks: tuple[str, ...], params: type[BaseModel]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        SPLIT_METHODS.add(name, Component(name=name, tasks=tasks, params_model=params, fn=fn))
        return fn

    return decorator
