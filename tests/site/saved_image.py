"""A small image written by the real engine's ``docker save``, for the chunked upload tests.

Two layers of seeded bytes on ``scratch`` (a few MB, so a handful of 1 MB
chunks carry it); built once per engine and reused while its content is the
same (the tag carries a hash of the build context).
"""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
from pathlib import Path

import pytest

from evaluator.runners import EngineUnavailable
from evaluator.runners.docker_runner import connect

REPO = Path(__file__).resolve().parents[2]
ENGINE_SCRIPT = REPO / "scripts" / "services" / "docker.sh"
LAYER_BYTES = 3 * 1024 * 1024 // 2
DOCKERFILE = "FROM scratch\nCOPY layer-a.bin /model/a.bin\nCOPY layer-b.bin /model/b.bin\n"


def engine_client():  # type: ignore[no-untyped-def]
    """The engine's client, starting it with the project's script when it is down; skips with the reason."""
    try:
        return connect()
    except EngineUnavailable as first:
        if os.geteuid() != 0:
            pytest.skip(f"no Docker engine and not root to start one: {first}")
        printed = subprocess.run(["bash", str(ENGINE_SCRIPT)], capture_output=True, text=True, timeout=900)
        try:
            return connect()
        except EngineUnavailable as exc:
            pytest.skip(f"no Docker engine: {exc}\n{printed.stdout}{printed.stderr}")


def docker_saved_tarball(target: Path) -> Path:
    """Build the small image (when missing) and write ``docker save`` of it to ``target``."""
    client = engine_client()
    context = target.parent / "image-context"
    context.mkdir(exist_ok=True)
    seeded = random.Random(20261201)
    (context / "Dockerfile").write_text(DOCKERFILE)
    (context / "layer-a.bin").write_bytes(seeded.randbytes(LAYER_BYTES))
    (context / "layer-b.bin").write_bytes(seeded.randbytes(LAYER_BYTES))
    digest = hashlib.sha256(b"".join((context / name).read_bytes() for name in sorted(os.listdir(context))))
    tag = f"toonbench-test/chunked-upload:{digest.hexdigest()[:12]}"
    if not client.images.list(name=tag):
        client.images.build(path=str(context), tag=tag, rm=True, forcerm=True, network_mode="none")
    with open(target, "wb") as sink:
        for piece in client.images.get(tag).save(named=True):
            sink.write(piece)
    return target
