"""``cartoonization``: ``root/photos/*`` and ``root/cartoons/*`` (unpaired domains)."""

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


class CartoonizationOptions(ImageFolderOptions):
    photos_dir: str = "photos"
    cartoons_dir: str = "cartoons"


@register_adapter("cartoonization", tasks=("translation",), params=CartoonizationOptions)
def read_cartoonization(
    root: Path, options: CartoonizationOptions, classes: list[str], folder: Path
) -> list[ManifestItem]:
    require_folder(root, "dataset")
    sources = [
        (domain, path)
        for domain, name in (("photo", options.photos_dir), ("cartoon", options.cartoons_dir))
        for path in _domain_images(root / name, domain, options.extensions)
    ]
    items = []
    for domain, path in tqdm(sources, desc=f"reading {root.name}", unit="img", disable=None):
        relative = path.relative_to(root).as_posix()
        item_id = opaque_id("cartoonization", relative)
        written = write_png(folder, item_id, read_image(path))
        items.append(ManifestItem(id=item_id, path=written, domain=domain))
    return items


def _domain_images(domain_folder: Path, domain: str, extensions: list[str]) -> list[Path]:
    require_folder(domain_folder, f"{domain} images")
    images = list_images(domain_folder, extensions)
    if not images:
        raise AdapterError(f"{domain_folder}: no {domain} images (expected files ending in {', '.join(extensions)})")
    return images
