"""``folder_per_class``: ``root/<class name>/*.jpg`` (ToonNet), or one such tree per published split.

With ``split_folders`` (``{train: curated/train, test: curated/val}`` for the
illustration set of Lagunas and Garces) each split's folder holds one folder
per class and every item keeps the split it was published in: the
``published`` split method then freezes it as it is.

Every class the spec names must have a non-empty folder (in every split
folder), and every folder must be a class the spec names, so a renamed or
missing class is caught when the benchmark is built rather than as a
silently different protocol.

With ``noisy_folder`` (``noisy/train`` for Lagunas and Garces, whose noisy set
of §4.2 is published beside the curated one, one folder per ImageNet class
name, 826 of them) that tree's images are read too, when the release has it,
as the ``noisy`` split: training material under its own class names (any
folder name counts, wrong labels included), never held out.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from tqdm import tqdm

from datasets.adapters.base import AdapterError, register_adapter
from datasets.adapters.image_files import (
    ImageFolderOptions,
    list_images,
    opaque_id,
    read_image,
    require_folder,
    write_png,
)
from datasets.manifest import NOISY_SPLIT, SPLITS, ManifestItem


class FolderPerClassOptions(ImageFolderOptions):
    """``split_folders``: split name (``train``, ``test``) -> its folder under the root; empty: one tree, no split.
    ``noisy_folder``: a tree of class folders read, when present, as the ``noisy`` training-only split."""

    split_folders: dict[str, str] = Field(default_factory=dict)
    noisy_folder: str = ""

    @field_validator("split_folders")
    @classmethod
    def _check_splits(cls, value: dict[str, str]) -> dict[str, str]:
        if value and sorted(value) != sorted(SPLITS):
            raise ValueError(f"expected one folder for each of {', '.join(SPLITS)}, got {', '.join(sorted(value))}")
        return value


@register_adapter("folder_per_class", tasks=("classification",), params=FolderPerClassOptions)
def read_folder_per_class(
    root: Path, options: FolderPerClassOptions, classes: list[str], folder: Path
) -> list[ManifestItem]:
    require_folder(root, "dataset")
    trees = [(split, root / relative) for split, relative in sorted(options.split_folders.items())] or [("", root)]
    sources = []
    for split, tree in trees:
        layout = f"{root.name}/{options.split_folders[split]}/<class name>/" if split else f"{root.name}/<class name>/"
        if split and not tree.is_dir():
            raise AdapterError(f"{tree}: {split} split folder not found (expected {layout} as published)")
        _reject_unknown_folders(tree, classes)
        sources += [
            (split, name, path) for name in classes for path in _class_images(tree / name, name, options.extensions, layout)
        ]
    if options.noisy_folder and (root / options.noisy_folder).is_dir():
        sources += _noisy_sources(root / options.noisy_folder, options.extensions)
    items = []
    for split, class_name, path in tqdm(sources, desc=f"reading {root.name}", unit="img", disable=None):
        relative = path.relative_to(root).as_posix()
        item_id = opaque_id("folder_per_class", relative)
        written = write_png(folder, item_id, read_image(path))
        items.append(ManifestItem(id=item_id, path=written, split=split, label=class_name))
    return items


def _noisy_sources(tree: Path, extensions: list[str]) -> list[tuple[str, str, Path]]:
    """Every image of every class folder under ``tree``, labelled by its folder's name, in the noisy split."""
    folders = sorted(path for path in tree.iterdir() if path.is_dir() and not path.name.startswith("."))
    return [(NOISY_SPLIT, folder.name, path) for folder in folders for path in list_images(folder, extensions)]


def _reject_unknown_folders(tree: Path, classes: list[str]) -> None:
    known = set(classes)
    for path in sorted(tree.iterdir()):
        if path.is_dir() and not path.name.startswith(".") and path.name not in known:
            raise AdapterError(
                f"{path}: folder {path.name!r} is not a class of this benchmark "
                f"(expected one folder per class: {', '.join(classes)})"
            )


def _class_images(class_folder: Path, class_name: str, extensions: list[str], layout: str) -> list[Path]:
    if not class_folder.is_dir():
        raise AdapterError(f"{class_folder}: missing folder for class {class_name!r} (expected {layout})")
    images = list_images(class_folder, extensions)
    if not images:
        raise AdapterError(
            f"{class_folder}: class {class_name!r} has no images (expected files ending in {', '.join(extensions)})"
        )
    return images
