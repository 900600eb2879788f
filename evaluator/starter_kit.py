"""A starting kit per benchmark: a model image that obeys the container contract out of the box.

``starter_kit_files(spec)`` returns ``predict.py`` (a small, honest method for
the task that reads ``/input`` and writes ``/output``), a ``Dockerfile`` FROM
the baselines' runtime image, and a README with the commands that build it,
run it on the development split, score the outputs with ``python -m
evaluator score`` and push it with ``toonbench push``; and how to start from
a bundled baseline's image instead. The protocol bundle carries the kit under
``starter_kit/``; ``toonbench init <benchmark>`` writes it into a folder.
"""

from __future__ import annotations

from datasets.spec_models import BenchmarkSpec

RUNTIME_IMAGE = "toonbench/runtime:latest"

_COMMON = '''"""A starting model for {slug} ({task}): ``python3 predict.py /input /output``.

Reads /input/manifest.json and the images it lists, writes {writes} to
/output (the container contract). Replace ``predict_{task}`` with your model.
"""

import json
import sys
from pathlib import Path

import cv2
import numpy as np


def read_manifest(input_dir: Path) -> dict:
    return json.loads((input_dir / "manifest.json").read_text())


def read_rgb(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit(f"{{path}}: not a readable image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
'''

_CLASSIFICATION = '''

def features(image: np.ndarray) -> np.ndarray:
    """A colour layout: the image at 8x8, centred and scaled to unit length."""
    small = cv2.resize(image, (8, 8), interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
    small -= small.mean()
    return small / (np.linalg.norm(small) + 1e-6)


def predict_classification(input_dir: Path, output_dir: Path) -> None:
    """Scores [N, C] from a fixed random projection of the colour layout: replace with a trained model."""
    manifest = read_manifest(input_dir)
    classes = manifest["classes"]
    projection = np.random.default_rng(0).normal(size=(8 * 8 * 3, len(classes))).astype(np.float32)
    rows = [features(read_rgb(input_dir / item["path"])) @ projection for item in manifest["items"]]
    scores = np.asarray(rows, dtype=np.float32).reshape(len(rows), len(classes))
    np.save(output_dir / "scores.npy", scores)


if __name__ == "__main__":
    predict_classification(Path(sys.argv[1]), Path(sys.argv[2]))
'''

_IDENTIFICATION = '''

def embed(image: np.ndarray, box: list[int] | None) -> np.ndarray:
    """The face box (whole image when none) in grey at 16x16, centred and L2-normalised."""
    if box is not None:
        x1, y1, x2, y2 = (int(v) for v in box)
        crop = image[max(y1, 0):max(y2, y1 + 1), max(x1, 0):max(x2, x1 + 1)]
        image = crop if crop.size else image
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    vector = cv2.resize(grey, (16, 16), interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
    vector -= vector.mean()
    return vector / (np.linalg.norm(vector) + 1e-6)


def predict_identification_verification(input_dir: Path, output_dir: Path) -> None:
    """Embeddings [N, D], rows in manifest order: replace ``embed`` with a trained network."""
    manifest = read_manifest(input_dir)
    rows = [embed(read_rgb(input_dir / item["path"]), item.get("box")) for item in manifest["items"]]
    np.save(output_dir / "embeddings.npy", np.asarray(rows, dtype=np.float32).reshape(len(rows), 16 * 16))


if __name__ == "__main__":
    predict_identification_verification(Path(sys.argv[1]), Path(sys.argv[2]))
'''

_TRANSLATION = '''

def cartoonize(photo: np.ndarray) -> np.ndarray:
    """Flat colours and dark edges: edge-preserving smoothing, colour quantisation, adaptive-threshold lines."""
    smooth = cv2.bilateralFilter(photo, 9, 75, 75)
    flat = (smooth // 32) * 32 + 16
    grey = cv2.medianBlur(cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY), 5)
    edges = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 9, 5)
    return (flat * (edges[..., None] > 0)).astype(np.uint8)


def predict_translation(input_dir: Path, output_dir: Path) -> None:
    """One PNG per input, same size: replace ``cartoonize`` with a trained generator."""
    manifest = read_manifest(input_dir)
    (output_dir / "images").mkdir(parents=True, exist_ok=True)
    for item in manifest["items"]:
        cartoon = cartoonize(read_rgb(input_dir / item["path"]))
        cv2.imwrite(str(output_dir / "images" / f"{item['id']}.png"), cv2.cvtColor(cartoon, cv2.COLOR_RGB2BGR))


if __name__ == "__main__":
    predict_translation(Path(sys.argv[1]), Path(sys.argv[2]))
'''

_BODIES = {
    "classification": ("scores.npy (float32 [N, C])", _CLASSIFICATION),
    "identification_verification": ("embeddings.npy (float32 [N, D])", _IDENTIFICATION),
    "translation": ("images/<id>.png (one per input, same size)", _TRANSLATION),
}

_DOCKERFILE = '''# A model image for {slug}. The runtime image holds Python 3.11, numpy, OpenCV, scikit-learn,
# scikit-image and torch (CUDA build: uses a GPU when the evaluator gives one); see README.md.
ARG RUNTIME={runtime}
FROM ${{RUNTIME}}
COPY predict.py /app/predict.py
ENTRYPOINT ["python3", "/app/predict.py", "/input", "/output"]
'''

_README = '''# Starting kit: {slug}

A model image that obeys the container contract of `{slug}` ({task}): it reads
`/input/manifest.json` and the images it lists, and writes {writes} to `/output`.
`predict.py` is a small working method; replace its model with yours.

## Build

The Dockerfile starts FROM the runtime image the bundled baselines use
(`{runtime}`). In a ToonBench checkout, `scripts/build-baseline-images.sh`
builds it; or start from a bundled baseline's image (below) with
`--build-arg RUNTIME=<that image>`.

    docker build -t {slug}-model:1 .

## Test on the development split

With the ToonBench dev kit (`pip install -e .` in a checkout), build the public
development split, write the `/input` folder a container sees, run the image
in a sandbox like the evaluator's, and score what it wrote:

    python -m datasets build {slug} --data data
    python -m evaluator prepare {slug} input --data data
    mkdir -p output
    docker run --rm --network none --read-only --tmpfs /tmp --cap-drop ALL --user "$(id -u):$(id -g)" \\
      -v "$PWD/input:/input:ro" -v "$PWD/output:/output" {slug}-model:1
    python -m evaluator score {slug} output --data data

## Submit

    toonbench login
    toonbench push {slug} {slug}-model:1

`toonbench push` tags the image under your registry namespace, pushes it and
submits it (the method name defaults to the image name; `--method` sets it).

## Start from a bundled baseline

The bundled baselines' rows on the `{slug}` leaderboard link to their submission
pages, which show each image's reference on the platform registry
(`<registry>/toonbench/<baseline>:<tag>`) and the digest that ran. Pull one:

    docker login <registry>
    docker pull <registry>/toonbench/<baseline>:<tag>

Every baseline image runs `python3 /app/baselines/<package>/predict.py /input /output`
(plus `--checkpoint /app/checkpoint.npz` when it learns). To replace its model,
build FROM it and copy your own predict.py (or your own weights) over it:

    FROM <registry>/toonbench/<baseline>:<tag>
    COPY predict.py /app/predict.py
    ENTRYPOINT ["python3", "/app/predict.py", "/input", "/output"]
'''


def starter_kit_files(spec: BenchmarkSpec) -> dict[str, bytes]:
    """``predict.py``, ``Dockerfile`` and ``README.md`` for ``spec``'s task."""
    if spec.task not in _BODIES:
        raise ValueError(f"{spec.slug}: no starting kit for task {spec.task!r} (known: {', '.join(_BODIES)})")
    writes, body = _BODIES[spec.task]
    fields = {"slug": spec.slug, "task": spec.task, "writes": writes, "runtime": RUNTIME_IMAGE}
    return {
        "predict.py": (_COMMON.format(**fields) + body).encode(),
        "Dockerfile": _DOCKERFILE.format(**fields).encode(),
        "README.md": _README.format(**fields).encode(),
    }

