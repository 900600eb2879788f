"""Deterministic synthetic generators: the embedded default data (DESIGN.md §2).

A generator is a function ``fn(params, classes, seed, folder) -> list[ManifestItem]``
that writes images under ``folder/images/`` and returns the items with their
truth (``sha256`` and ``split`` left empty: building fills them). The same
params and seed give byte-identical files, in any process.

A classification generator registers the class names it can draw; a spec
may name any of them, in any order, and each image is drawn for its class
by name, so the spec alone decides which classes a benchmark has.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from datasets.components import Component, Params
from datasets.registry import Registry


@dataclass(frozen=True)
class Generator(Component):
    """A registered generator; ``classes`` are the class names it can draw (empty when it draws none)."""

    classes: tuple[str, ...] = ()


GENERATORS: Registry[Generator] = Registry("generator")


def register_generator(
    name: str, *, tasks: tuple[str, ...], params: type[Params], classes: Iterable[str] = ()
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        GENERATORS.add(name, Generator(name=name, tasks=tasks, params_model=params, fn=fn, classes=tuple(classes)))
        return fn

    return decorator


from datasets.generators import faces, glyphs, photos, toon_objects  # noqa: E402,F401  (registration)
