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
from evaluator.tasks import task_of

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
    starter = task_of(spec).starter
    if starter is None:
        raise ValueError(f"{spec.slug}: task {spec.task!r} has no starting code")
    fields = {"slug": spec.slug, "task": spec.task, "writes": starter.writes, "runtime": RUNTIME_IMAGE}
    return {
        "predict.py": (_COMMON.format(**fields) + starter.body).encode(),
        "Dockerfile": _DOCKERFILE.format(**fields).encode(),
        "README.md": _README.format(**fields).encode(),
    }

