"""``cartoonization``: White-box Cartoonization's training data, as its authors lay it out.

``root/photo_face/``, ``root/photo_scenery/``, ``root/cartoon_face/`` and
``root/cartoon_scenery/``, each read recursively: the photo domain is
``photo_face`` + ``photo_scenery``, the cartoon domain ``cartoon_face`` +
``cartoon_scenery``. Every image becomes a ``resolution`` x ``resolution``
PNG (its centred square, resized: 256 x 256 as the cartoonization papers
train and report FID), so submissions translate, and FID compares, images
at that resolution. Which subset (``face`` or ``scenery``) an image came from
is kept in the manifest's ``subset`` field, which never reaches ``/input``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from tqdm import tqdm

from datasets.adapters.base import AdapterError, register_adapter
from datasets.adapters.image_files import (
    ImageFolderOptions,
    list_images_recursive,
    opaque_id,
    read_image,
    require_folder,
    square_resized,
    write_png,
)
from datasets.manifest import ManifestItem

FID_RESOLUTION = 256
RELEASE_FOLDERS = (
    ("photo_face", "photo", "face"),
    ("photo_scenery", "photo", "scenery"),
    ("cartoon_face", "cartoon", "face"),
    ("cartoon_scenery", "cartoon", "scenery"),
)
EXPECTED_LAYOUT = "root/photo_face/, root/photo_scenery/, root/cartoon_face/ and root/cartoon_scenery/"
OLD_FLAT_FOLDERS = ("photos", "cartoons")


class CartoonizationOptions(ImageFolderOptions):
    resolution: int = Field(FID_RESOLUTION, ge=32)


@register_adapter("cartoonization", tasks=("translation",), params=CartoonizationOptions)
def read_cartoonization(
    root: Path, options: CartoonizationOptions, classes: list[str], folder: Path
) -> list[ManifestItem]:
    require_folder(root, "dataset")
    _reject_flat_layout(root)
    sources = [
        (domain, subset, path)
        for name, domain, subset in RELEASE_FOLDERS
        for path in _release_images(root / name, options.extensions)
    ]
    items = []
    for domain, subset, path in tqdm(sources, desc=f"reading {root.name}", unit="img", disable=None):
        item_id = opaque_id("cartoonization", path.relative_to(root).as_posix())
        image = square_resized(read_image(path), options.resolution)
        items.append(ManifestItem(id=item_id, path=write_png(folder, item_id, image), domain=domain, subset=subset))
    return items


def _reject_flat_layout(root: Path) -> None:
    """A folder laid out as ``photos/`` + ``cartoons/`` is not the release: say which folders are read."""
    flat = [name for name in OLD_FLAT_FOLDERS if (root / name).is_dir()]
    release = [name for name, _, _ in RELEASE_FOLDERS if (root / name).exists()]
    if flat and not release:
        raise AdapterError(
            f"{root}: found {' and '.join(f'{name}/' for name in flat)}, a layout that is not read; "
            f"expected the White-box Cartoonization folders {EXPECTED_LAYOUT}"
        )


def _release_images(subset_folder: Path, extensions: list[str]) -> list[Path]:
    if not subset_folder.is_dir():
        raise AdapterError(f"{subset_folder}: folder not found (expected {EXPECTED_LAYOUT})")
    images = list_images_recursive(subset_folder, extensions)
    if not images:
        raise AdapterError(
            f"{subset_folder}: no images (expected files ending in {', '.join(extensions)}, in any sub-folder)"
        )
    return images
