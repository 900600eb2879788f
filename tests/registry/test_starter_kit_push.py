"""A participant's path from the starting kit to a score: ``toonbench init``, ``docker build``, ``toonbench push``.

The kit comes from the live site's protocol bundle, builds FROM the
runtime image the baselines use, is pushed through the CLI to the platform
registry without ``--method`` (the image name names the method), pulled by
the worker by digest and scored with the spec's real limits.
"""

from __future__ import annotations

from typing import Any

import pytest

from jobs import evaluation
from registry_helpers import cli, forget
from submissions.models import Status, Submission

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(scope="module")
def runtime_image(docker_client: Any) -> str:
    from baselines.images import ensure_runtime_image

    return ensure_runtime_image(docker_client, log=lambda line: None)


def test_the_toonnet_kit_is_initialised_built_pushed_without_a_method_and_scored(  # type: ignore[no-untyped-def]
    live_server, platform_registry, toonnet, toonnet_built, alice, cli_config, engine, runtime_image, capsys, tmp_path
) -> None:
    assert cli(capsys, "--server", live_server.url, "login", "-u", "alice", "-p", "correct horse battery")[0] == 0
    kit = tmp_path / "kit"
    code, _, err = cli(capsys, "init", "toonnet", str(kit))
    assert code == 0, err
    assert {"predict.py", "Dockerfile", "README.md"} <= {path.name for path in kit.iterdir()}
    local = "toonnet-model:1"
    engine.images.build(path=str(kit), tag=local, buildargs={"RUNTIME": runtime_image}, rm=True, forcerm=True,
                        network_mode="none")
    reference = f"{platform_registry.address}/alice/toonnet-model:1"
    try:
        code, out, err = cli(capsys, "push", "toonnet", local)
        assert code == 0, err
        submission = Submission.objects.get(owner=alice, benchmark=toonnet)
        assert (submission.method_name, submission.image_ref) == (local, reference)
        assert submission.resolved_ref.startswith(f"{platform_registry.address}/alice/toonnet-model@sha256:")

        forget(engine, reference, submission.resolved_ref)  # what runs comes from the registry
        assert evaluation.evaluate(submission.pk, worker="kit-test") == Status.FINISHED
        submission.refresh_from_db()
        assert submission.status == Status.FINISHED, submission.status_reason
        assert 0.0 <= submission.result.metrics["top1_error"] <= 1.0
    finally:
        forget(engine, local, reference)
