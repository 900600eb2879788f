"""``toonbench submissions``, ``rerun`` and ``cancel`` against the live server, read through ``--json``."""

from __future__ import annotations

import numpy as np
import pytest

from cli_run import RECORD_KEYS, login, run, run_json, server_refusal
from site_helpers import finished_submission
from submissions.models import Status, Submission
from toonnet_outputs import seeded_scores

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def queued_submission(owner, benchmark, method: str) -> Submission:  # type: ignore[no-untyped-def]
    return Submission.objects.create(owner=owner, benchmark=benchmark, protocol=benchmark.current_version(),
                                     kind="predictions", method_name=method, status=Status.QUEUED)


def test_submissions_lists_only_yours_newest_first_filtered_and_paged(  # type: ignore[no-untyped-def]
    live_server, toonnet, toonnet_built, alice, bob, cli_config, capsys
) -> None:
    for seed in (1, 2, 3):
        finished_submission(alice, toonnet, toonnet_built, seed=seed, method=f"alice {seed}")
    waiting = queued_submission(alice, toonnet, "alice waiting")
    finished_submission(bob, toonnet, toonnet_built, seed=4, method="bob's")
    mine = list(Submission.objects.filter(owner=alice).order_by("-created").values_list("pk", flat=True))
    login(capsys, live_server.url, "alice")

    _, listed, _ = run_json(capsys, "submissions")
    assert listed["count"] == 4 and [s["id"] for s in listed["results"]] == mine
    first = listed["results"][0]
    assert all(set(record) == RECORD_KEYS for record in listed["results"])
    assert first["method_name"] == "alice waiting" and first["status"] == "queued" and first["metrics"] is None
    assert first["url"] == f"{live_server.url}/submissions/{waiting.pk}/"
    finished = next(s for s in listed["results"] if s["method_name"] == "alice 1")
    stored = Submission.objects.get(pk=finished["id"]).result
    assert finished["metrics"] == pytest.approx(stored.metrics) and finished["owner"] == "alice"

    _, queued, _ = run_json(capsys, "submissions", "--status", "queued")
    assert queued["count"] == 1 and [s["id"] for s in queued["results"]] == [waiting.pk]
    _, done, _ = run_json(capsys, "submissions", "--status", "finished", "--benchmark", "toonnet")
    assert sorted(s["method_name"] for s in done["results"]) == ["alice 1", "alice 2", "alice 3"]

    _, images, _ = run_json(capsys, "submissions", "--kind", "image")
    assert images == {"count": 0, "results": []}
    _, dated, _ = run_json(capsys, "submissions", "--kind", "predictions", "--created-after", "2000-01-01")
    assert [s["id"] for s in dated["results"]] == mine
    _, old, _ = run_json(capsys, "submissions", "--created-before", "2000-01-01")
    assert old["count"] == 0
    code, out, err = run(capsys, "submissions", "--created-after", "last tuesday", "--json")
    assert (code, out) == (1, "") and err.startswith("toonbench: HTTP 400: ") and "created_after" in err

    _, page, err = run_json(capsys, "submissions", "--limit", "3")
    assert page["count"] == 4 and [s["id"] for s in page["results"]] == mine[:3]
    assert "3 of 4 shown; --all-pages lists them all" in err
    _, every, _ = run_json(capsys, "submissions", "--limit", "3", "--all-pages")
    assert every["count"] == 4 and [s["id"] for s in every["results"]] == mine

    code, out, _ = run(capsys, "submissions", "--status", "queued")
    assert code == 0
    header, row = out.splitlines()
    assert header.split() == ["id", "benchmark", "method", "kind", "status", "shown", "created"]
    assert row.split()[:6] == [str(waiting.pk), "toonnet", "alice", "waiting", "predictions", "queued"]


def test_submissions_needs_a_sign_in_and_a_known_status(  # type: ignore[no-untyped-def]
    live_server, toonnet, cli_config, capsys
) -> None:
    code, out, err = run(capsys, "--server", live_server.url, "submissions", "--json")
    assert code == 3 and out == "" and err.startswith("toonbench: HTTP 401: ")
    code, _, err = run(capsys, "--server", live_server.url, "submissions", "--status", "done")
    assert code == 2 and "invalid choice: 'done'" in err


def test_an_ended_submission_is_rerun_as_a_new_queued_one(  # type: ignore[no-untyped-def]
    live_server, toonnet, toonnet_built, alice, cli_config, queued_jobs, tmp_path, capsys
) -> None:
    output = tmp_path / "output"
    output.mkdir()
    np.save(output / "scores.npy", seeded_scores(toonnet_built, 5))
    login(capsys, live_server.url, "alice")
    code, _, err = run(capsys, "submit", "toonnet", "--predictions", str(output), "--method", "to rerun",
                       "--description", "kept on re-run")
    assert code == 0, err
    original = Submission.objects.get(method_name="to rerun")
    assert queued_jobs == [original.pk]

    _, cancelled, _ = run_json(capsys, "cancel", str(original.pk))
    assert (cancelled["id"], cancelled["status"]) == (original.pk, "cancelled")
    assert cancelled["status_reason"] == "cancelled by its owner"
    assert Submission.objects.get(pk=original.pk).status == Status.CANCELLED

    _, rerun, _ = run_json(capsys, "rerun", str(original.pk))
    assert rerun["id"] != original.pk and rerun["status"] == "queued" and rerun["metrics"] is None
    assert (rerun["method_name"], rerun["description"], rerun["kind"]) == ("to rerun", "kept on re-run", "predictions")
    assert queued_jobs == [original.pk, rerun["id"]]
    again = Submission.objects.get(pk=rerun["id"])
    assert again.status == Status.QUEUED and again.artefact.read() == original.artefact.read()
    _, listed, _ = run_json(capsys, "submissions")
    assert [s["id"] for s in listed["results"]] == [rerun["id"], original.pk]

    code, out, err = run(capsys, "rerun", str(rerun["id"]))
    assert code == 1 and out == ""
    assert err.startswith("toonbench: HTTP 4") and f"#{rerun['id']} is still queued" in err
    assert queued_jobs == [original.pk, rerun["id"]]


def test_cancel_refuses_an_ended_submission_with_the_servers_reason(  # type: ignore[no-untyped-def]
    live_server, toonnet, toonnet_built, alice, cli_config, capsys
) -> None:
    done = finished_submission(alice, toonnet, toonnet_built, seed=8, method="done")
    login(capsys, live_server.url, "alice")
    code, out, err = run(capsys, "cancel", str(done.pk), "--json")
    assert code == 1 and out == ""
    assert (409, err) == server_refusal(live_server.url, alice, "POST", f"submissions/{done.pk}/cancel/")
    assert f"#{done.pk} already ended (finished)" in err
    assert Submission.objects.get(pk=done.pk).status == Status.FINISHED


def test_someone_elses_or_a_missing_submission_cannot_be_cancelled_or_rerun(  # type: ignore[no-untyped-def]
    live_server, toonnet, toonnet_built, alice, bob, cli_config, capsys
) -> None:
    hidden = queued_submission(bob, toonnet, "bob's private")
    Submission.objects.filter(pk=hidden.pk).update(is_public=False)
    shown = finished_submission(bob, toonnet, toonnet_built, seed=9, method="bob's public")
    login(capsys, live_server.url, "alice")

    for command in ("cancel", "rerun"):
        for pk, status, code in ((hidden.pk, 404, 4), (shown.pk, 403, 3), (999999, 404, 4)):
            exit_code, out, err = run(capsys, command, str(pk), "--json")
            assert (exit_code, out) == (code, "")
            assert (status, err) == server_refusal(live_server.url, alice, "POST", f"submissions/{pk}/{command}/")
            assert f"#{pk}" in err
    assert Submission.objects.get(pk=hidden.pk).status == Status.QUEUED
    assert Submission.objects.filter(owner=bob).count() == 2
