"""A hostile submission (run as ``python3 -c`` in the base image): guess classes from file metadata alone.

Builds write real datasets class by class, in the spec's class order. If
/input kept anything of that order (hard links share the built file's inode
and times), sorting the images by inode, mtime or ctime and cutting the
order into as many equal blocks as there are classes gives each block its
class. One guess per (attribute, direction) goes to
/output/attacks/<attribute>-<direction>/scores.npy; /output/scores.npy is
the first of them, so the run itself is a valid submission. The folders are
``$TOONBENCH_INPUT`` and ``$TOONBENCH_OUTPUT`` (as the runners set them), so
the same script also runs on the host against any folder.
"""

import json
import os

import numpy as np

ATTRIBUTES = ("st_ino", "st_mtime_ns", "st_ctime_ns")
INPUT = os.environ.get("TOONBENCH_INPUT", "/input")
OUTPUT = os.environ.get("TOONBENCH_OUTPUT", "/output")

with open(os.path.join(INPUT, "manifest.json")) as handle:
    manifest = json.load(handle)
ids = [item["id"] for item in manifest["items"]]
classes = len(manifest["classes"])
stats = {item_id: os.stat(os.path.join(INPUT, "images", f"{item_id}.png")) for item_id in ids}


def guess(attribute, descending):
    order = sorted(ids, key=lambda item_id: getattr(stats[item_id], attribute), reverse=descending)
    position = {item_id: rank for rank, item_id in enumerate(order)}
    scores = np.zeros((len(ids), classes), dtype=np.float32)
    for row, item_id in enumerate(ids):
        scores[row, position[item_id] * classes // len(ids)] = 1.0
    return scores


first = None
for attribute in ATTRIBUTES:
    for descending in (False, True):
        scores = guess(attribute, descending)
        folder = os.path.join(OUTPUT, "attacks", f"{attribute}-{'desc' if descending else 'asc'}")
        os.makedirs(folder)
        np.save(os.path.join(folder, "scores.npy"), scores)
        first = scores if first is None else first
np.save(os.path.join(OUTPUT, "scores.npy"), first)
print(f"guessed {len(ids)} items from {len(ATTRIBUTES)} attributes")
