"""A layer that is small in the registry but inflates past the cap, pulled by the real engine from the platform registry."""

from __future__ import annotations

import shutil
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rest_framework.authtoken.models import Token

from evaluator.runners import ImageUnavailable
from evaluator.runners.base import MEGABYTE
from evaluator.runners.images import ensure_image
from registry.policy import pull_settings
from registry_helpers import forget, has, push

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.docker, pytest.mark.slow]

INFLATED_MB = 300  # gzip makes ~0.3 MB of it
CAP_MB = 50
FILLER = "toonbench-inflating-layer.bin"


def zeros_tarball(megabytes: int) -> Iterator[bytes]:
    """A tar stream of one file of zeros, made as it is read (nothing of it is written here)."""
    member = tarfile.TarInfo(FILLER)
    member.size = megabytes * MEGABYTE
    yield member.tobuf(format=tarfile.USTAR_FORMAT)
    for _ in range(megabytes):
        yield bytes(MEGABYTE)
    yield bytes(2 * tarfile.BLOCKSIZE)


def leftovers(client: Any) -> list[str]:
    """Files of the filler layer still in the engine's storage (overlay2 or vfs, as scripts/services/docker.sh picks)."""
    info = client.info()
    storage = Path(info["DockerRootDir"]) / info["Driver"]
    return [str(path) for pattern in (f"*/diff/{FILLER}", f"dir/*/{FILLER}") for path in storage.glob(pattern)]


@pytest.fixture
def inflating_pinned(docker_client, platform_registry, alice) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """``alice/inflating@sha256:...`` in the platform registry, absent from the engine."""
    local = "toonbench-test/inflating:1"
    repository = f"{platform_registry.address}/alice/inflating"
    docker_client.api.import_image(src=zeros_tarball(INFLATED_MB), repository=local.split(":")[0], tag="1",
                                   stream_src=True)
    auth = {"username": "alice", "password": Token.objects.create(user=alice).key}
    try:
        digest, error = push(docker_client, local, repository, "1", auth)
    finally:
        forget(docker_client, local, f"{repository}:1")
    assert error == "" and digest.startswith("sha256:")
    pinned = f"{repository}@{digest}"
    assert not has(docker_client, pinned) and leftovers(docker_client) == []
    yield pinned
    forget(docker_client, pinned)


def test_a_layer_that_inflates_past_the_cap_is_stopped_while_pulled_and_nothing_of_it_stays(  # type: ignore[no-untyped-def]
    docker_client, site, inflating_pinned
) -> None:
    site.TOONBENCH_MAX_IMAGE_MB = CAP_MB
    root = docker_client.info()["DockerRootDir"]
    used_before = shutil.disk_usage(root).used
    with pytest.raises(ImageUnavailable) as refused:
        ensure_image(docker_client, inflating_pinned, pull_settings())
    reason = str(refused.value)
    assert reason.startswith(f"{inflating_pinned}: the image grew past the limit of {CAP_MB} MB while being pulled ")
    assert reason.endswith(" and was removed") and "\n" not in reason
    assert not has(docker_client, inflating_pinned)
    assert leftovers(docker_client) == []
    assert shutil.disk_usage(root).used - used_before < INFLATED_MB * MEGABYTE / 2
