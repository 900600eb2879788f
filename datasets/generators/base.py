"""The registry and its types for ``datasets.generators``; the package imports its registering modules."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from datasets.components import Component, Params
from datasets.registry import Registry


@dataclass(frozen=True)
class Generator(Component):
    """A registered generator; ``classes`` are the class names it can draw (empty when it draws none).

    ``noisy``, when set, makes the training-only items its params ask for
    (``fn``'s signature; items in the ``noisy`` split, never held out).
    """

    classes: tuple[str, ...] = ()
    noisy: Callable[..., Any] | None = None


GENERATORS: Registry[Generator] = Registry("generator")


def register_generator(
    name: str, *, tasks: tuple[str, ...], params: type[Params], classes: Iterable[str] = (), noisy: Callable[..., Any] | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return GENERATORS.register_with(
        name, lambda fn: Generator(name=name, tasks=tasks, params_model=params, fn=fn, classes=tuple(classes), noisy=noisy)
    )
