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
from pathlib import Path
from typing import Any

from datasets.build import BuiltBenchmark
from datasets.manifest import ManifestItem

INPUT_MANIFEST_NAME = "manifest.json"
SCORES_NPY = "scores.npy"
SCORES_CSV = "scores.csv"
EMBEDDINGS_NPY = "embeddings.npy"
OUTPUT_IMAGES_DIR = "images"
INPUT_FILE_MODE = 0o444
INPUT_DIR_MODE = 0o755
INPUT_TIME_NS = 0  # every file and folder of /input carries the epoch as its access and modification time


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
    """Write the ``/input`` folder a container sees, fresh: ``manifest.json`` and ``images/<id>.png``.

    Nothing but an image's own bytes may say anything about its item, so
    ``dest`` is removed and written again for every job: each image is a new
    file (never a hard link, which would share the built file's inode, times
    and link count, and builds write their sources class by class), written
    in manifest order (sorted by id, which carries no truth), and every file
    and folder gets the same mode and the same timestamps. Images are copied
    byte for byte, without re-encoding: every built image already went
    through OpenCV's PNG writer, which writes no text, time or EXIF chunk.
    Files are world-readable because containers run as another user; folders
    stay writable by the worker alone, so it can remove them.
    """
    dest = Path(dest)
    _remove_input(dest)
    images = dest / "images"
    images.mkdir(parents=True)
    for item in input_items(built):
        _write_fresh(dest / input_image_name(item.id), (built.folder / item.path).read_bytes())
    _write_fresh(dest / INPUT_MANIFEST_NAME, (json.dumps(container_manifest(built), indent=1) + "\n").encode())
    for folder in (images, dest):  # after their entries: adding an entry moves a folder's times
        folder.chmod(INPUT_DIR_MODE)
        os.utime(folder, ns=(INPUT_TIME_NS, INPUT_TIME_NS), follow_symlinks=False)
    return dest


def _remove_input(dest: Path) -> None:
    """An earlier job's (or an earlier try's) ``/input`` at ``dest``: every file is replaced, none reused.

    Only a folder that holds nothing but ``manifest.json`` and ``images/`` is
    removed, so pointing the dev kit at a folder of one's own never deletes it.
    """
    if dest.is_symlink():
        dest.unlink()
        return
    if not dest.exists():
        return
    entries = {entry.name for entry in dest.iterdir()} if dest.is_dir() else {dest.name}
    if not dest.is_dir() or not entries <= {INPUT_MANIFEST_NAME, "images"}:
        raise FileExistsError(
            f"{dest}: exists and is not an earlier input folder (expected nothing but {INPUT_MANIFEST_NAME} and "
            "images/); choose a new or empty folder"
        )
    shutil.rmtree(dest)


def _write_fresh(target: Path, data: bytes) -> None:
    """A new file (new inode and data blocks) holding ``data``, with the input's mode and timestamps."""
    handle = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, INPUT_FILE_MODE)
    with os.fdopen(handle, "wb") as stream:
        os.fchmod(stream.fileno(), INPUT_FILE_MODE)  # the umask may have taken bits away
        stream.write(data)
    os.utime(target, ns=(INPUT_TIME_NS, INPUT_TIME_NS), follow_symlinks=False)
