"""Apply a per-image function to every input photo and write ``images/<id>.png``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm import tqdm

from baselines.common.contract import read_input, read_rgb, write_rgb

ImageFn = Callable[[np.ndarray], np.ndarray]


def translate_folder(input_dir: Path, output_dir: Path, image_fn: ImageFn, desc: str = "cartoonizing") -> None:
    manifest = read_input(input_dir)
    for item in tqdm(manifest.items, desc=desc, leave=False, mininterval=1.0):
        photo = read_rgb(manifest.image_path(item))
        cartoon = image_fn(photo)
        if cartoon.shape != photo.shape:
            raise ValueError(f"{item.id}: output shape {cartoon.shape} differs from the input's {photo.shape}")
        write_rgb(Path(output_dir) / "images" / f"{item.id}.png", cartoon)
