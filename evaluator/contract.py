"""The container contract (DESIGN.md §3): what ``/input`` holds and what ``/output`` must hold.

``/input/manifest.json`` lists the test items a submission must process, in
``manifest.jsonl`` order (sorted by id), with their image paths and the
fields the benchmark's task type adds (``evaluator.tasks``: the class names
in column order for classification, the face boxes for faces). It never
carries truth: no labels, identities, domains, pairs or roles. Which test
items are inputs is the task's choice too: for translation only the test
photos, while the test cartoons stay on the evaluator side as the FID
reference.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from datasets.build import BuiltBenchmark
from datasets.manifest import ManifestItem
from evaluator.tasks import task_of

INPUT_MANIFEST_NAME = "manifest.json"
INPUT_FILE_MODE = 0o444
INPUT_DIR_MODE = 0o755
INPUT_TIME_NS = 0  # every file and folder of /input carries the epoch as its access and modification time


def input_items(built: BuiltBenchmark) -> list[ManifestItem]:
    """The test items a container receives, sorted by id."""
    return task_of(built.spec).inputs(built)


def input_image_name(item_id: str) -> str:
    return f"images/{item_id}.png"


def container_manifest(built: BuiltBenchmark) -> dict[str, Any]:
    """The ``/input/manifest.json`` document: ids, image paths and the task's fields, never truth."""
    task = task_of(built.spec)
    document: dict[str, Any] = {
        "task": task.name,
        "slug": built.spec.slug,
        "protocol_hash": built.protocol_hash,
        "items": [task.input_entry(item, input_image_name(item.id)) for item in task.inputs(built)],
        **task.document_fields(built.spec),
    }
    document["outputs"] = expected_outputs(built)
    return document


def expected_outputs(built: BuiltBenchmark) -> dict[str, Any]:
    """What ``/output`` must hold for this benchmark, in words a participant can follow."""
    task = task_of(built.spec)
    return {**task.expected_outputs(built, len(task.inputs(built))), "output_mb": built.spec.limits.output_mb}


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
