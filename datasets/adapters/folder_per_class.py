"""``folder_per_class``: ``root/<class name>/*.jpg`` (ToonNet, the illustration set).

Every class the spec names must have a non-empty folder, and every folder
must be a class the spec names, so a renamed or missing class is caught when
the benchmark is built rather than as a silently different protocol.
"""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from datasets.adapters import AdapterError, register_adapter
from datasets.adapters.image_files import (
    ImageFolderOptions,
    list_images,
    opaque_id,
    read_image,
    require_folder,
    write_png,
)
from datasets.manifest import ManifestItem


class FolderPerClassOptions(ImageFolderOptions):
    """Only the shared ``extensions`` option."""


@register_adapter("folder_per_class", tasks=("classification",), params=FolderPerClassOptions)
def read_folder_per_class(
    root: Path, options: FolderPerClassOptions, classes: list[str], folder: Path
) -> list[ManifestItem]:
    require_folder(root, "dataset")
    _reject_unknown_folders(root, classes)
    sources = [(name, path) for name in classes for path in _class_images(root / name, name, options.extensions)]
    items = []
    for class_name, path in tqdm(sources, desc=f"reading {root.name}", unit="img", disable=None):
        relative = path.relative_to(root).as_posix()
        item_id = opaque_id("folder_per_class", relative)
        written = write_png(folder, item_id, read_image(path))
        items.append(ManifestItem(id=item_id, path=written, label=class_name))
    return items


def _reject_unknown_folders(root: Path, classes: list[str]) -> None:
    known = set(classes)
    for path in sorted(root.iterdir()):
        if path.is_dir() and not path.name.startswith(".") and path.name not in known:
            raise AdapterError(
                f"{path}: folder {path.name!r} is not a class of this benchmark "
                f"(expected one folder per class: {', '.join(classes)})"
            )


def _class_images(class_folder: Path, class_name: str, extensions: list[str]) -> list[Path]:
    if not class_folder.is_dir():
        raise AdapterError(f"{class_folder}: missing folder for class {class_name!r} (expected root/<class name>/)")
    images = list_images(class_folder, extensions)
    if not images:
        raise AdapterError(
            f"{class_folder}: class {class_name!r} has no images (expected files ending in {', '.join(extensions)})"
        )
    return images
