"""Image submissions end to end: real site, CLI, registry, engine and worker, with the spec's real limits.

A model pushed with ``toonbench push`` is pinned to its digest when
submitted, pulled by the worker (the local copy is removed first) and scored
to the exact expected metric; references the owner may not run, or that do
not resolve, are refused with one sentence.
"""

from __future__ import annotations

import socket

import docker.errors
import pytest
import requests
from rest_framework.authtoken.models import Token

from registry.tokens import mint
from registry_helpers import cli, forget, has, push
from jobs import evaluation
from submissions import actions
from submissions.models import Status, Submission
from submissions.services import SubmissionRefused, create_submission

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.docker, pytest.mark.slow]


def submission_id(out: str) -> int:
    return int(out.split("#")[1].split()[0])


def expected_top1_error(built) -> float:  # type: ignore[no-untyped-def]
    """The index_scores image puts all its score on class (row mod C): wrong wherever the truth differs."""
    items = sorted(built.test_items(), key=lambda item: item.id)
    classes = built.spec.classes
    wrong = sum(classes.index(item.label) != row % len(classes) for row, item in enumerate(items))
    return wrong / len(items)


def pushed_digest(engine, reference: str) -> str:  # type: ignore[no-untyped-def]
    repository = reference.rsplit(":", 1)[0]
    digests = [entry for entry in engine.images.get(reference).attrs["RepoDigests"] if entry.startswith(repository + "@")]
    assert len(digests) == 1
    return digests[0].split("@", 1)[1]


def test_a_pushed_then_pulled_image_finishes_with_the_exact_expected_metric_and_reruns_the_same_digest(  # type: ignore[no-untyped-def]
    live_server, platform_registry, toonnet, alice, toonnet_built, cli_config, engine, index_scores_image, capsys
) -> None:
    code, _, err = cli(capsys, "--server", live_server.url, "login", "-u", "alice", "-p", "correct horse battery")
    assert code == 0, err
    code, out, err = cli(capsys, "push", "toonnet", index_scores_image, "--method", "pushed model")
    assert code == 0, err
    tag = index_scores_image.rsplit(":", 1)[1]
    reference = f"{platform_registry.address}/alice/index_scores:{tag}"
    assert f"pushed {reference} (sha256:" in err
    submission = Submission.objects.get(pk=submission_id(out))
    digest = pushed_digest(engine, reference)
    assert submission.image_ref == reference
    assert submission.resolved_ref == f"{platform_registry.address}/alice/index_scores@{digest}"

    forget(engine, reference, submission.resolved_ref)  # what runs comes from the registry
    assert evaluation.evaluate(submission.pk, worker="registry-test") == Status.FINISHED
    submission.refresh_from_db()
    assert submission.status == Status.FINISHED, submission.status_reason
    expected = expected_top1_error(toonnet_built)
    assert 0 < expected < 1
    assert submission.result.metrics["top1_error"] == pytest.approx(expected, abs=1e-12)
    assert has(engine, submission.resolved_ref)

    # The tag moves on; a re-run still runs the digest that was submitted.
    other, _ = push(engine, "toonbench/python-numpy:base", reference.rsplit(":", 1)[0], tag,
                    {"username": "alice", "password": Token.objects.get(user=alice).key})
    assert other != digest
    again = actions.rerun(submission)
    assert again.resolved_ref == submission.resolved_ref and again.image_ref == reference
    forget(engine, reference, submission.resolved_ref, f"{reference.rsplit(':', 1)[0]}@{other}")


def test_submit_image_pushes_a_reference_only_the_local_engine_has(  # type: ignore[no-untyped-def]
    live_server, platform_registry, toonnet, alice, toonnet_built, cli_config, engine, index_scores_image, capsys
) -> None:
    cli(capsys, "--server", live_server.url, "login", "-u", "alice", "-p", "correct horse battery")
    code, out, err = cli(capsys, "submit", "toonnet", "--image", index_scores_image, "--method", "engine reference")
    assert code == 0, err
    submission = Submission.objects.get(pk=submission_id(out))
    tag = index_scores_image.rsplit(":", 1)[1]
    reference = f"{platform_registry.address}/alice/index_scores:{tag}"
    assert submission.image_ref == reference
    assert submission.resolved_ref == f"{platform_registry.address}/alice/index_scores@{pushed_digest(engine, reference)}"
    forget(engine, reference, submission.resolved_ref)
    assert evaluation.evaluate(submission.pk, worker="registry-test") == Status.FINISHED
    submission.refresh_from_db()
    assert submission.result.metrics["top1_error"] == pytest.approx(expected_top1_error(toonnet_built), abs=1e-12)
    forget(engine, submission.resolved_ref)


def test_a_docker_save_tarball_through_the_cli_finishes_with_the_exact_expected_metric(  # type: ignore[no-untyped-def]
    live_server, toonnet, alice, toonnet_built, cli_config, engine, index_scores_image, capsys, tmp_path
) -> None:
    tarball = tmp_path / "model.tar"
    with tarball.open("wb") as sink:
        for chunk in engine.images.get(index_scores_image).save(named=True):
            sink.write(chunk)
    cli(capsys, "--server", live_server.url, "login", "-u", "alice", "-p", "correct horse battery")
    code, out, err = cli(capsys, "submit", "toonnet", "--tarball", str(tarball), "--method", "saved model")
    assert code == 0, err
    submission = Submission.objects.get(pk=submission_id(out))
    assert submission.kind == "tarball"
    assert evaluation.evaluate(submission.pk, worker="registry-test") == Status.FINISHED
    submission.refresh_from_db()
    assert submission.result.metrics["top1_error"] == pytest.approx(expected_top1_error(toonnet_built), abs=1e-12)
    limits = submission.effective_limits
    assert limits["cpus"] <= min(4, engine.info()["NCPU"]) and limits["gpus"] == 0


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def pushed_by_bob(docker_client, platform_registry, bob, index_scores_image) -> str:  # type: ignore[no-untyped-def]
    repository = f"{platform_registry.address}/bob/model"
    digest, error = push(docker_client, index_scores_image, repository, "1", {"username": "bob",
                                                                       "password": Token.objects.create(user=bob).key})
    assert error == ""
    forget(docker_client, f"{repository}:1")
    return f"{repository}@{digest}"


@pytest.mark.parametrize("case", ["another user's tag", "another user's digest", "bare engine tag", "bare image id",
                                  "unknown tag", "unknown repository", "unreachable registry", "private address",
                                  "over the size cap"])
def test_references_the_owner_may_not_run_or_that_do_not_resolve_are_refused(  # type: ignore[no-untyped-def]
    client, platform_registry, toonnet, alice, docker_client, index_scores_image, pushed_by_bob, site, case
) -> None:
    address = platform_registry.address
    alice_token = Token.objects.create(user=alice)
    push(docker_client, index_scores_image, f"{address}/alice/model", "1", {"username": "alice", "password": alice_token.key})
    forget(docker_client, f"{address}/alice/model:1")
    image_id = docker_client.images.get(index_scores_image).id
    unreachable = f"127.0.0.1:{closed_port()}"
    site.TOONBENCH_PRIVATE_REGISTRIES = (unreachable,)
    reference, reason = {
        "another user's tag": (f"{address}/bob/model:1", f"is not an image you pushed: a submission may run only "
                                                         f"images under {address}/alice/"),
        "another user's digest": (pushed_by_bob, "is not an image you pushed"),
        "bare engine tag": (index_scores_image, "names no registry host, so it could be any image in a worker's "
                                                f"engine; push it to the platform registry with `toonbench push "
                                                f"<benchmark> {index_scores_image}`"),
        "bare image id": (image_id, "is a bare image id, which names no registry"),
        "unknown tag": (f"{address}/alice/model:nope", f"unknown tag nope in {address}/alice/model"),
        "unknown repository": (f"{address}/alice/nothing:1", f"unknown repository alice/nothing in the registry {address}"),
        "unreachable registry": (f"{unreachable}/alice/model:1", "is unreachable"),
        "private address": (f"127.0.0.1:{closed_port()}/alice/model:1", "names a registry on a private or loopback "
                                                                     "address, which submissions may not use"),
        "over the size cap": (f"{address}/alice/model:1", "MB in its registry, over the limit of 1 MB"),
    }[case]
    if case == "over the size cap":
        site.TOONBENCH_MAX_IMAGE_MB = 1
    response = client.post("/api/submissions/", {"benchmark": "toonnet", "kind": "image", "image_ref": reference,
                                                  "method_name": case}, HTTP_AUTHORIZATION=f"Token {alice_token.key}")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert reason in error and "\n" not in error
    assert not Submission.objects.exists()
    with pytest.raises(SubmissionRefused, match="not an image you pushed"):
        create_submission(alice, toonnet, "image", "direct", image_ref=f"{address}/bob/model:1", queue=False)


def test_a_digest_deleted_after_submission_fails_the_run_with_the_reason(  # type: ignore[no-untyped-def]
    platform_registry, toonnet, alice, engine, index_scores_image
) -> None:
    repository = f"{platform_registry.address}/alice/short-lived"
    digest, _ = push(engine, index_scores_image, repository, "1",
                     {"username": "alice", "password": Token.objects.create(user=alice).key})
    submission = create_submission(alice, toonnet, "image", "short lived", image_ref=f"{repository}:1", queue=False)
    assert submission.resolved_ref == f"{repository}@{digest}"
    admin_token = mint("registry-admin", [{"type": "repository", "name": "alice/short-lived", "actions": ["delete"]}])
    deleted = requests.delete(f"http://{platform_registry.address}/v2/alice/short-lived/manifests/{digest}",
                              headers={"Authorization": f"Bearer {admin_token}"}, timeout=10)
    assert deleted.status_code == 202, deleted.text
    forget(engine, f"{repository}:1", submission.resolved_ref)
    assert evaluation.evaluate(submission.pk) == Status.FAILED
    submission.refresh_from_db()
    assert "no longer exists in the registry" in submission.status_reason
    assert "push the image again and resubmit" in submission.status_reason
    with pytest.raises(docker.errors.ImageNotFound):
        engine.images.get(submission.resolved_ref)


def test_push_explains_a_missing_login_an_image_id_and_an_unknown_image(  # type: ignore[no-untyped-def]
    live_server, platform_registry, toonnet, alice, cli_config, docker_client, index_scores_image, capsys
) -> None:
    code, _, err = cli(capsys, "--server", live_server.url, "push", "toonnet", index_scores_image, "--method", "m")
    assert code == 3 and "pushing needs your API token; run `toonbench login` first" in err
    cli(capsys, "--server", live_server.url, "login", "-u", "alice", "-p", "correct horse battery")
    image_id = docker_client.images.get(index_scores_image).id
    code, _, err = cli(capsys, "push", "toonnet", image_id, "--method", "m")
    assert code == 1 and f"{image_id} is an image id, which has no name; name it first" in err
    code, _, err = cli(capsys, "push", "toonnet", "no-such/image:1", "--method", "m")
    assert code == 1 and "no-such/image:1: no such image in the local Docker engine" in err
    assert not Submission.objects.exists()
