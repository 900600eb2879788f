"""The container contract (DESIGN.md §3): what ``/input`` holds and what ``/output`` must hold.

``/input/manifest.json`` lists the test items a submission must process, in
``manifest.jsonl`` order (sorted by id), with their image paths, the class
names in column order for classification and the face boxes for
icartoonface. It never carries truth: no labels, identities, domains, pairs
or roles. For translation only the test photos are inputs; the test cartoons
stay on the evaluator side as the FID reference.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path
from typing import Any

from datasets.build import BuiltBenchmark
from datasets.manifest import ManifestItem

INPUT_MANIFEST_NAME = "manifest.json"
SCORES_NPY = "scores.npy"
SCORES_CSV = "scores.csv"
EMBEDDINGS_NPY = "embeddings.npy"
OUTPUT_IMAGES_DIR = "images"
READABLE_FILE_MODE = 0o644
READABLE_DIR_MODE = 0o755


def input_items(built: BuiltBenchmark) -> list[ManifestItem]:
    """The test items a container receives, sorted by id (test photos only for translation)."""
    items = built.test_items()
    if built.spec.task == "translation":
        items = [item for item in items if item.domain == "photo"]
    return sorted(items, key=lambda item: item.id)


def reference_items(built: BuiltBenchmark) -> list[ManifestItem]:
    """Translation only: the held-out cartoons the outputs are compared with (never an input)."""
    return sorted((item for item in built.test_items() if item.domain == "cartoon"), key=lambda item: item.id)


def input_image_name(item_id: str) -> str:
    return f"images/{item_id}.png"


def container_manifest(built: BuiltBenchmark) -> dict[str, Any]:
    """The ``/input/manifest.json`` document: ids, image paths, classes and boxes, never truth."""
    task = built.spec.task
    entries = []
    for item in input_items(built):
        entry: dict[str, Any] = {"id": item.id, "path": input_image_name(item.id)}
        if task == "identification_verification" and item.box is not None:
            entry["box"] = [int(v) for v in item.box]
        entries.append(entry)
    document: dict[str, Any] = {
        "task": task,
        "slug": built.spec.slug,
        "protocol_hash": built.protocol_hash,
        "items": entries,
    }
    if task == "classification":
        document["classes"] = list(built.spec.classes)
    document["outputs"] = expected_outputs(built)
    return document


def expected_outputs(built: BuiltBenchmark) -> dict[str, Any]:
    """What ``/output`` must hold for this benchmark, in words a participant can follow."""
    count = len(input_items(built))
    task = built.spec.task
    limit = {"output_mb": built.spec.limits.output_mb}
    if task == "classification":
        classes = len(built.spec.classes)
        return {
            "files": [SCORES_NPY],
            "alternatives": [SCORES_CSV],
            "shape": [count, classes],
            "dtype": "float32",
            "description": (
                f"{SCORES_NPY}: float32 array [{count}, {classes}], one row per item in manifest.json order, "
                f"one column per class in 'classes' order (higher = more likely); or {SCORES_CSV} with "
                f"header 'id,<class names in 'classes' order>' and one row per item"
            ),
            **limit,
        }
    if task == "identification_verification":
        return {
            "files": [EMBEDDINGS_NPY],
            "shape": [count, "D"],
            "dtype": "float32",
            "description": (
                f"{EMBEDDINGS_NPY}: float32 array [{count}, D] with D >= 1, one embedding per item in "
                "manifest.json order; compared by cosine similarity"
            ),
            **limit,
        }
    return {
        "files": [f"{OUTPUT_IMAGES_DIR}/<id>.png"],
        "count": count,
        "description": (
            f"{OUTPUT_IMAGES_DIR}/<id>.png: one PNG per input image ({count}), the same width and height as the input"
        ),
        **limit,
    }


def prepare_input(built: BuiltBenchmark, dest: Path) -> Path:
    """Write the ``/input`` folder a container sees: ``manifest.json`` and ``images/<id>.png``.

    Images are hard-linked when source and destination share a file system,
    copied otherwise. Everything is made world-readable because containers
    run as a non-root user.
    """
    dest = Path(dest)
    images = dest / "images"
    images.mkdir(parents=True, exist_ok=True)
    items = input_items(built)
    wanted = {Path(input_image_name(item.id)).name for item in items}
    for stale in images.iterdir():  # left by an earlier prepare into the same folder
        if stale.name not in wanted and (stale.is_file() or stale.is_symlink()):
            stale.unlink()
    for item in items:
        _link_or_copy(built.folder / item.path, dest / input_image_name(item.id))
    manifest_path = dest / INPUT_MANIFEST_NAME
    manifest_path.write_text(json.dumps(container_manifest(built), indent=1) + "\n")
    manifest_path.chmod(READABLE_FILE_MODE)
    images.chmod(READABLE_DIR_MODE)
    dest.chmod(READABLE_DIR_MODE)
    return dest


def _link_or_copy(source: Path, target: Path) -> None:
    if target.exists() or target.is_symlink():
        target.unlink()
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
    if stat.S_IMODE(target.stat().st_mode) & 0o444 != 0o444:
        try:
            target.chmod(READABLE_FILE_MODE)
        except PermissionError:
            target.unlink()
            shutil.copyfile(source, target)
            target.chmod(READABLE_FILE_MODE)
