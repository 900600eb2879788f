"""Image decoding for feature extraction: RGB as pytorch-fid reads it, batched in threads."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np


def read_rgb(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def decode_batch(paths: Sequence[Path], pin: bool) -> Any:
    """uint8 [B, H, W, 3] when sizes agree, else a list of [H, W, 3] arrays."""
    import torch

    images = [read_rgb(path) for path in paths]
    if any(image.shape != images[0].shape for image in images):
        return images
    batch = torch.from_numpy(np.stack(images))
    return batch.pin_memory() if pin else batch


def decoded_batches(paths: Sequence[Path], batch_size: int, workers: int, pin: bool
                     ) -> Iterator[Any]:
    """Batches in order; up to ``workers`` batches decode in threads ahead of the consumer."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[Any] = deque()
        for start in range(0, len(paths), batch_size):
            pending.append(pool.submit(decode_batch, paths[start:start + batch_size], pin))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
