"""What the two classification generators share: their parameters and how one item is made.

Each generator supplies only ``render(rng, class_name, size) -> RGB image``
and the names it can draw; item ``i`` is class ``classes[i % len(classes)]``
of the spec's list, drawn by that name with its own RNG and written under an
opaque id. The id hides ``i`` (and so the class) only from someone who does
not know the seed: a server build passes a seed keyed by the build secret
(``datasets.secret``), never the spec's public one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import partial
from pathlib import Path

import numpy as np
from pydantic import Field

from datasets.components import Params
from datasets.generators._draw import item_rng, opaque_id, write_png
from datasets.generators._parallel import ItemMaker
from datasets.manifest import ManifestItem

Renderer = Callable[[np.random.Generator, str, int], np.ndarray]


class PerClassParams(Params):
    per_class: int = Field(gt=0)
    size: int = Field(ge=32)


def class_item(
    name: str, render: Renderer, params: PerClassParams, classes: list[str], seed: int, folder: Path, index: int
) -> ManifestItem:
    class_name = classes[index % len(classes)]
    item_id = opaque_id(name, seed, index)
    path = write_png(folder, item_id, render(item_rng(seed, name, index), class_name, params.size))
    return ManifestItem(id=item_id, path=path, label=class_name)


def per_class_plan(
    name: str, render: Renderer, drawable: Collection[str],
    params: PerClassParams, classes: list[str], seed: int, folder: Path,
) -> tuple[int, ItemMaker]:
    """``per_class`` items of every class in ``classes``, each one of the ``drawable`` names."""
    unknown = [class_name for class_name in classes if class_name not in drawable]
    if unknown:
        raise ValueError(f"{name}: cannot draw the classes {unknown} (it draws: {', '.join(drawable)})")
    return params.per_class * len(classes), partial(class_item, name, render, params, classes, seed, folder)
