"""Deterministic synthetic generators: the embedded default data (DESIGN.md §2).

A generator is a function ``fn(params, classes, seed, folder) -> list[ManifestItem]``
that writes images under ``folder/images/`` and returns the items with their
truth (``sha256`` and ``split`` left empty: building fills them). The same
params and seed give byte-identical files, in any process.

A classification generator registers the class names it can draw; a spec
may name any of them, in any order, and each image is drawn for its class
by name, so the spec alone decides which classes a benchmark has.
"""

from datasets.generators.base import GENERATORS, Generator, register_generator
from datasets.generators import faces, glyphs, photos, toon_objects  # noqa: F401  (registration)

__all__ = ["GENERATORS", "Generator", "register_generator"]
