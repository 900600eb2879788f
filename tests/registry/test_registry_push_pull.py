"""Real ``docker login`` / push / pull through the platform registry, with tokens from the live site."""

from __future__ import annotations

import json
from pathlib import Path

import docker.errors
import pytest
from rest_framework.authtoken.models import Token

from evaluator.runners import ImageUnavailable
from evaluator.runners.images import ensure_image
from registry.policy import pin_image, pull_settings
from registry_helpers import forget, has, push

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.docker, pytest.mark.slow]


@pytest.fixture
def alice_auth(alice) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"username": "alice", "password": Token.objects.create(user=alice).key}


def test_docker_login_takes_the_api_token_and_refuses_a_wrong_one(docker_client, platform_registry, alice_auth) -> None:  # type: ignore[no-untyped-def]
    answer = docker_client.login(registry=platform_registry.address, reauth=True, **alice_auth)
    assert answer["Status"] == "Login Succeeded"
    with pytest.raises(docker.errors.APIError, match="wrong username or API token"):
        docker_client.login(username="alice", password="0" * 40, registry=platform_registry.address, reauth=True)


def test_a_push_outside_your_namespace_is_denied_with_the_reason(  # type: ignore[no-untyped-def]
    docker_client, platform_registry, alice_auth, bob, index_scores_image
) -> None:
    target = f"{platform_registry.address}/bob/stolen"
    try:
        digest, error = push(docker_client, index_scores_image, target, "1", alice_auth)
    finally:
        forget(docker_client, f"{target}:1")
    assert digest == ""
    assert f"bob/stolen is outside your namespace: alice may push only to {platform_registry.address}/alice/" in error


def test_a_pushed_image_resolves_to_its_digest_and_a_worker_pulls_it_by_digest(  # type: ignore[no-untyped-def]
    docker_client, platform_registry, alice, alice_auth, index_scores_image, tmp_path: Path
) -> None:
    repository = f"{platform_registry.address}/alice/index-scores"
    digest, error = push(docker_client, index_scores_image, repository, "v1", alice_auth)
    assert error == "" and digest.startswith("sha256:")
    resolved = pin_image(alice, f"{repository}:v1")
    assert resolved.digest == digest and resolved.pinned == f"{repository}@{digest}"
    assert resolved.size_bytes > 1_000_000  # the base image's layer, compressed

    forget(docker_client, f"{repository}:v1", resolved.pinned)
    assert not has(docker_client, resolved.pinned)
    lines: list[str] = []
    image = ensure_image(docker_client, resolved.pinned, pull_settings(log=lambda text: lines.append(text)))
    assert image.id == docker_client.images.get(index_scores_image).id
    assert lines[0] == f"pulling {resolved.pinned}\n" and lines[-1].endswith(f"pulled {resolved.pinned}\n")
    record = json.loads((tmp_path / "jobs" / "image-cache.json").read_text())
    assert list(record) == [resolved.pinned] and record[resolved.pinned]["image_id"] == image.id
    forget(docker_client, resolved.pinned)


def test_pulling_a_deleted_digest_or_an_image_over_the_cap_fails_with_the_reason(  # type: ignore[no-untyped-def]
    docker_client, platform_registry, alice, alice_auth, index_scores_image, site
) -> None:
    repository = f"{platform_registry.address}/alice/capped"
    digest, _ = push(docker_client, index_scores_image, repository, "1", alice_auth)
    forget(docker_client, f"{repository}:1", f"{repository}@{digest}")
    site.TOONBENCH_MAX_IMAGE_MB = 1
    with pytest.raises(ImageUnavailable, match=r"the image is \d+ MB in its registry, over the limit of 1 MB"):
        ensure_image(docker_client, f"{repository}@{digest}", pull_settings())
    missing = "sha256:" + "0" * 64
    with pytest.raises(ImageUnavailable, match="no longer exists in the registry"):
        ensure_image(docker_client, f"{repository}@{missing}", pull_settings())
    assert not has(docker_client, f"{repository}@{digest}")


def test_the_cache_drops_least_recently_used_pulls_but_never_one_in_use_or_not_pulled_here(  # type: ignore[no-untyped-def]
    docker_client, platform_registry, alice_auth, index_scores_image, site
) -> None:
    pinned = {}
    for name in ("first", "second", "third"):
        repository = f"{platform_registry.address}/alice/{name}"
        digest, _ = push(docker_client, index_scores_image, repository, "1", alice_auth)
        forget(docker_client, f"{repository}:1", f"{repository}@{digest}")
        pinned[name] = f"{repository}@{digest}"
    site.TOONBENCH_IMAGE_CACHE_GB = 0  # every pull pushes the older ones out, when they can go
    ensure_image(docker_client, pinned["first"], pull_settings())
    in_use = docker_client.containers.create(pinned["first"], command=["true"], network_mode="none")
    try:
        ensure_image(docker_client, pinned["second"], pull_settings())
        assert has(docker_client, pinned["first"]) and has(docker_client, pinned["second"])
        in_use.remove()
        ensure_image(docker_client, pinned["third"], pull_settings())
        assert not has(docker_client, pinned["first"]) and not has(docker_client, pinned["second"]) and has(docker_client, pinned["third"])
    finally:
        try:
            in_use.remove(force=True)
        except docker.errors.NotFound:
            pass
        for reference in pinned.values():
            forget(docker_client, reference)
    assert has(docker_client, index_scores_image) and has(docker_client, "toonbench/python-numpy:base")


def test_every_signed_in_user_pulls_the_baseline_images_and_none_pushes_over_them(  # type: ignore[no-untyped-def]
    docker_client, platform_registry, alice_auth, index_scores_image
) -> None:
    from seeding.images import push_image, push_token

    repository = f"{platform_registry.address}/toonbench/sample-baseline"
    docker_client.images.get(index_scores_image).tag(repository, "1")
    try:
        assert push_image(docker_client, repository, "1", push_token("toonbench/sample-baseline")) == ""
        forget(docker_client, f"{repository}:1")
        pulled = docker_client.images.pull(repository, tag="1", auth_config=alice_auth)
        assert pulled.id == docker_client.images.get(index_scores_image).id

        digest, error = push(docker_client, index_scores_image, repository, "2", alice_auth)
        assert digest == ""
        assert f"toonbench/sample-baseline is outside your namespace: alice may push only to {platform_registry.address}/alice/" in error
    finally:
        forget(docker_client, f"{repository}:1", f"{repository}:2")
