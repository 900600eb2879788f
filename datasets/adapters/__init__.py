"""Adapters that read the real datasets in their official layouts.

An adapter is a function ``fn(root, options, classes, folder) -> list[ManifestItem]``
that reads the user's copy under ``root`` and writes the benchmark's images
under ``folder/images/`` (copied, or cropped for faces). Every problem is an
``AdapterError`` naming the file (and line) and what was expected.
"""

from datasets.adapters.base import ADAPTERS, AdapterError, register_adapter
from datasets.adapters import cartoonization, folder_per_class, icartoonface  # noqa: F401  (registration)

__all__ = ["ADAPTERS", "AdapterError", "register_adapter"]
