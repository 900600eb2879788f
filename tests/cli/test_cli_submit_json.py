"""``toonbench submit --json``: the submission record on stdout, as stored or, with ``--wait``, as it ended."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import top_k_accuracy_score

from cli_run import RECORD_KEYS, login, run, run_json
from submissions.models import Submission
from toonnet_outputs import seeded_scores, true_class_indices

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def scores_folder(tmp_path, built, seed: int):  # type: ignore[no-untyped-def]
    folder = tmp_path / f"output-{seed}"
    folder.mkdir()
    scores = seeded_scores(built, seed)
    np.save(folder / "scores.npy", scores)
    return folder, scores


def test_submit_with_wait_prints_the_record_it_ended_with(  # type: ignore[no-untyped-def]
    live_server, toonnet, toonnet_built, alice, cli_config, eager_jobs, tmp_path, capsys
) -> None:
    login(capsys, live_server.url, "alice")
    folder, scores = scores_folder(tmp_path, toonnet_built, 31)

    _, record, err = run_json(capsys, "submit", "toonnet", "--predictions", str(folder), "--method", "json method", "--wait")

    expected = 1 - top_k_accuracy_score(true_class_indices(toonnet_built), scores, k=1, labels=list(range(12)))
    assert RECORD_KEYS <= set(record)
    assert (record["method_name"], record["kind"], record["status"], record["owner"]) == (
        "json method", "predictions", "finished", "alice")
    assert record["metrics"]["top1_error"] == pytest.approx(expected)
    assert record["url"] == f"{live_server.url}/submissions/{record['id']}/"
    assert Submission.objects.get(pk=record["id"]).method_name == "json method"
    assert f"submission #{record['id']} " in err


def test_submit_without_wait_prints_the_stored_record_and_a_refusal_prints_nothing(  # type: ignore[no-untyped-def]
    live_server, toonnet, toonnet_built, alice, cli_config, queued_jobs, tmp_path, capsys
) -> None:
    login(capsys, live_server.url, "alice")
    folder, _ = scores_folder(tmp_path, toonnet_built, 5)

    code, out, err = run(capsys, "submit", "toonnet", "--predictions", str(folder), "--method", "queued one", "--json")

    assert code == 0, err
    record = json.loads(out)
    assert (record["status"], record["metrics"], record["ci95"]) == ("queued", None, None)
    assert queued_jobs == [record["id"]]
    code, out, err = run(capsys, "submit", "no-such-benchmark", "--predictions", str(folder), "--method", "m", "--json")
    assert (code, out) == (1, ""), err  # the server refused: exit 1, nothing a script would parse
    assert err.splitlines()[-1] == ("toonbench: HTTP 400: benchmark: expected the slug of an open benchmark "
                                    "(GET /api/v1/benchmarks/ lists them), not 'no-such-benchmark'"), err
