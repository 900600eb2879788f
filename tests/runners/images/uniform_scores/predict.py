"""Write /output/scores.npy: float32 [N, C] of zeros, rows in manifest order (DESIGN.md §3)."""

import json

import numpy as np

with open("/input/manifest.json") as handle:
    manifest = json.load(handle)
scores = np.zeros((len(manifest["items"]), len(manifest["classes"])), dtype=np.float32)
np.save("/output/scores.npy", scores)
print(f"wrote scores for {scores.shape[0]} items and {scores.shape[1]} classes")
