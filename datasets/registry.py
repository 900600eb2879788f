"""One small registry class for every pluggable part (adapters, generators,
split methods, metrics).

A spec may only name registered components; an unknown name is answered with
the closest registered names so a typo is easy to fix.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")
F = TypeVar("F")


class RegistryError(KeyError):
    """Raised for unknown or duplicate names."""

    def __str__(self) -> str:  # KeyError quotes its argument; we want plain text
        return str(self.args[0])


class Registry(Generic[T]):
    """Name -> component, filled by each kind's ``register_*`` decorator (``register_with``)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def add(self, name: str, component: T) -> T:
        if name in self._entries:
            raise RegistryError(f"{self.kind} {name!r} is registered twice")
        self._entries[name] = component
        return component

    def register_with(self, name: str, entry: Callable[[F], T]) -> Callable[[F], F]:
        """A decorator that registers ``entry(decorated)`` under ``name`` and returns the decorated object.

        Every kind's ``register_*`` decorator is this with its own entry
        type: ``register_metric`` wraps a function in a ``MetricDef``,
        ``register_runner`` registers the class itself.
        """

        def decorator(decorated: F) -> F:
            self.add(name, entry(decorated))
            return decorated

        return decorator

    def get(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            raise RegistryError(self.unknown_message(name)) from None

    def unknown_message(self, name: str) -> str:
        close = difflib.get_close_matches(name, self._entries, n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        known = ", ".join(sorted(self._entries))
        return f"unknown {self.kind} {name!r}{hint} (known: {known})"

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._entries))

    def names(self) -> list[str]:
        return sorted(self._entries)
