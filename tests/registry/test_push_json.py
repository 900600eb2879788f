"""``toonbench push --json``: the real CLI, site, registry and Docker engine; stdout is what a script follows.

The record names the reference pushed, the digest the site pinned it to and
the submission made, each checked against the engine and the database; the
push's progress stays on stderr, and a refused push prints nothing on stdout.
"""

from __future__ import annotations

import json

import pytest

from registry_helpers import cli, forget
from submissions.models import Submission

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.docker, pytest.mark.slow]

PASSWORD = "correct horse battery"
RECORD_KEYS = {"id", "benchmark", "method_name", "kind", "status", "status_reason", "is_public", "is_baseline", "owner",
               "team", "description", "created", "finished_at", "protocol_hash", "metrics", "ci95", "url"}


def engine_digest(engine, reference: str) -> str:  # type: ignore[no-untyped-def]
    """The digest the local engine recorded when it pushed ``reference``."""
    repository = reference.rsplit(":", 1)[0]
    [digest] = [entry.split("@", 1)[1] for entry in engine.images.get(reference).attrs["RepoDigests"]
                if entry.startswith(repository + "@")]
    return digest


def test_push_json_names_the_pushed_image_its_pinned_digest_and_the_submission(  # type: ignore[no-untyped-def]
    live_server, platform_registry, toonnet, toonnet_built, alice, cli_config, engine, index_scores_image, capsys
) -> None:
    assert cli(capsys, "--server", live_server.url, "login", "-u", "alice", "-p", PASSWORD)[0] == 0
    tag = index_scores_image.rsplit(":", 1)[1]
    reference = f"{platform_registry.address}/alice/json-push:{tag}"
    try:
        code, out, err = cli(capsys, "push", "toonnet", index_scores_image, "--name", "json-push",
                             "--method", "pushed for a script", "--private", "--json")
        assert code == 0, err
        record = json.loads(out)
        digest = engine_digest(engine, reference)
        submission = Submission.objects.get(pk=record["submission"]["id"])
        assert set(record) == {"image", "resolved_ref", "digest", "submission"}
        assert (record["image"], record["digest"]) == (reference, digest)
        assert record["resolved_ref"] == submission.resolved_ref == f"{platform_registry.address}/alice/json-push@{digest}"
        assert set(record["submission"]) == RECORD_KEYS
        assert (submission.owner, submission.benchmark, submission.image_ref) == (alice, toonnet, reference)
        assert {key: record["submission"][key] for key in ("status", "method_name", "kind", "is_public", "url")} == {
            "status": submission.status, "method_name": "pushed for a script", "kind": "image", "is_public": False,
            "url": f"{live_server.url}/submissions/{submission.pk}/"}
        assert f"pushing {index_scores_image} as {reference}" in err and f"pushed {reference} ({digest})" in err
        assert f"follow it with `toonbench status {submission.pk} --wait`" in err

        code, out, _ = cli(capsys, "status", str(record["submission"]["id"]), "--json")
        assert code == 0 and json.loads(out)["id"] == submission.pk
    finally:
        forget(engine, reference)


def test_a_refused_push_with_json_prints_nothing_on_stdout(  # type: ignore[no-untyped-def]
    live_server, platform_registry, toonnet, alice, cli_config, engine, index_scores_image, capsys
) -> None:
    code, out, err = cli(capsys, "--server", live_server.url, "push", "toonnet", index_scores_image, "--json")
    assert (code, out) == (3, "")
    assert err == "toonbench: pushing needs your API token; run `toonbench login` first\n"

    assert cli(capsys, "--server", live_server.url, "login", "-u", "alice", "-p", PASSWORD)[0] == 0
    code, out, err = cli(capsys, "push", "toonnet", "no-such-model:1", "--json")
    assert (code, out) == (1, "")
    assert err == "toonbench: no-such-model:1: no such image in the local Docker engine (see `docker images`)\n"
    assert not Submission.objects.exists()
