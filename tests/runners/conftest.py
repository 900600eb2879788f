"""Fixtures for the runner tests: a real Docker engine, test submission images, a tiny benchmark.

The engine is started by scripts/services/docker.sh when it is not running
(as root). Test images are built once and reused across sessions while their
build context (and the base image) stay the same: the tag carries a hash of
both.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker.errors
import pytest

from evaluator.runners import CONTAINER_LABEL, EngineUnavailable, RunLimits
from evaluator.runners.docker_runner import WORKER_LABEL, connect, worker_name

REPO = Path(__file__).resolve().parents[2]
IMAGES = Path(__file__).resolve().parent / "images"
ENGINE_SCRIPT = REPO / "scripts" / "services" / "docker.sh"
BASE_IMAGE = os.environ.get("TOONBENCH_BASE_IMAGE", "toonbench/python-numpy:base")
CONTEXT_LABEL = "org.toonbench.test-context"


def _start_engine() -> str:
    """Run the engine script; returns what it printed (the skip reason when it fails)."""
    if os.geteuid() != 0:
        return "not root: cannot start a Docker engine here"
    done = subprocess.run(["bash", str(ENGINE_SCRIPT)], capture_output=True, text=True, timeout=900)
    return (done.stdout + done.stderr).strip()


@pytest.fixture(scope="session")
def docker_client() -> Any:
    try:
        client = connect()
    except EngineUnavailable:
        printed = _start_engine()
        try:
            client = connect()
        except EngineUnavailable as exc:
            pytest.skip(f"no Docker engine: {exc}\n{printed}")
    if not client.images.list(name=BASE_IMAGE):
        printed = _start_engine()
        if not client.images.list(name=BASE_IMAGE):
            pytest.skip(f"base image {BASE_IMAGE} could not be built:\n{printed}")
    return client


@pytest.fixture()
def engine(docker_client: Any) -> Iterator[Any]:
    """The client; after the test, no runner container of this process may be left behind.

    Only this process's containers count: other test sessions may share the engine.
    """
    yield docker_client
    ours = [CONTAINER_LABEL, f"{WORKER_LABEL}={worker_name()}"]
    leftovers = docker_client.containers.list(all=True, filters={"label": ours})
    names = [container.name for container in leftovers]
    for container in leftovers:
        container.remove(force=True)
    assert names == [], f"runner containers left behind: {names}"


def context_hash(context: Path, base_image_id: str) -> str:
    digest = hashlib.sha256(base_image_id.encode())
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(context)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def build_test_image(client: Any, name: str) -> str:
    """Build ``tests/runners/images/<name>`` unless an image of the same context exists; returns its tag."""
    context = IMAGES / name
    digest = context_hash(context, client.images.get(BASE_IMAGE).id)
    tag = f"toonbench-test/{name}:{digest[:12]}"
    if not client.images.list(filters={"label": f"{CONTEXT_LABEL}={digest}"}):
        client.images.build(
            path=str(context), tag=tag, labels={CONTEXT_LABEL: digest}, rm=True, forcerm=True, network_mode="none"
        )
        _remove_older_builds(client, f"toonbench-test/{name}", keep=tag)
    return tag


def _remove_older_builds(client: Any, repository: str, keep: str) -> None:
    for image in client.images.list(name=repository):
        for old_tag in image.tags:
            if old_tag != keep:
                try:
                    client.images.remove(old_tag)
                except docker.errors.APIError:  # still used by a container elsewhere: leave it
                    pass


@pytest.fixture(scope="session")
def probes_image(docker_client: Any) -> str:
    return build_test_image(docker_client, "probes")


@pytest.fixture(scope="session")
def uniform_scores_image(docker_client: Any) -> str:
    return build_test_image(docker_client, "uniform_scores")


@pytest.fixture(scope="session")
def contract_outputs_image(docker_client: Any) -> str:
    return build_test_image(docker_client, "contract_outputs")


@pytest.fixture(scope="session")
def tiny_toonnet(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from datasets.build import build_benchmark

    return build_benchmark("toonnet", tmp_path_factory.mktemp("data"), profile="tiny")


@pytest.fixture(scope="session")
def prepared_input(tiny_toonnet: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``/input`` for the tiny toonnet test split, as the evaluator prepares it."""
    from evaluator.contract import prepare_input

    return prepare_input(tiny_toonnet, tmp_path_factory.mktemp("input") / "input")


@pytest.fixture()
def tight_limits() -> RunLimits:
    return RunLimits(timeout_s=10, memory_gb=0.25, cpus=1, pids=64, gpus=0, output_mb=5)
