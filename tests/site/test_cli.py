"""The ``toonbench`` command against a live server: login, list, download, submit, follow, leaderboard."""

from __future__ import annotations

import csv
import io
import json
import stat
import zipfile

import numpy as np
import pytest
from sklearn.metrics import top_k_accuracy_score

from toonbench_cli.main import main
from toonbench_site.celery import app as celery_app
from toonnet_outputs import seeded_scores, true_class_indices

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def eager_jobs():  # type: ignore[no-untyped-def]
    """Submitting runs the evaluation at once, inside the request, like a worker would."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def run(capsys, *argv: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_cli_logs_in_downloads_submits_waits_and_reads_the_leaderboard(
    live_server, toonnet, alice, toonnet_built, cli_config, eager_jobs, tmp_path, capsys  # type: ignore[no-untyped-def]
) -> None:
    server = live_server.url
    code, out, _ = run(capsys, "--server", server, "login", "--username", "alice", "--password", "correct horse battery")
    assert code == 0 and "logged in" in out
    saved = json.loads(cli_config.read_text())
    assert saved["server"] == server and len(saved["token"]) == 40
    assert stat.S_IMODE(cli_config.stat().st_mode) == 0o600

    code, out, _ = run(capsys, "benchmarks")
    assert code == 0 and "toonnet" in out and "top1_error ↓" in out and toonnet_built.protocol_hash[:12] in out

    bundle_path = tmp_path / "bundle.zip"
    code, out, _ = run(capsys, "protocol", "download", "toonnet", "-o", str(bundle_path))
    assert code == 0 and out.strip() == str(bundle_path)
    with zipfile.ZipFile(bundle_path) as bundle:
        assert json.loads(bundle.read("toonnet/protocol.json"))["protocol_hash"] == toonnet_built.protocol_hash
        test_ids = [json.loads(line)["id"] for line in bundle.read("toonnet/manifest.public.jsonl").splitlines()
                    if json.loads(line)["split"] == "test"]
    assert test_ids == sorted(item.id for item in toonnet_built.test_items())

    scores = seeded_scores(toonnet_built, 31)
    output = tmp_path / "output"
    output.mkdir()
    np.save(output / "scores.npy", scores)
    code, out, err = run(capsys, "submit", "toonnet", "--predictions", str(output), "--method", "cli method",
                         "--code-url", "https://example.org/code")
    assert code == 0, err
    submission_id = int(out.split("#")[1].split()[0])
    assert "upload" in err

    code, out, err = run(capsys, "status", str(submission_id), "--wait", "--interval", "0.2", "--timeout", "120")
    assert code == 0, out + err
    expected = 1 - top_k_accuracy_score(true_class_indices(toonnet_built), scores, k=1, labels=list(range(12)))
    assert f"#{submission_id} cli method on toonnet: finished" in out
    assert f"top1_error  {expected:.3f}  [" in out

    code, out, _ = run(capsys, "leaderboard", "toonnet")
    assert code == 0 and "cli method" in out.splitlines()[2] and out.splitlines()[2].startswith("1 ")
    code, out, _ = run(capsys, "leaderboard", "toonnet", "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [row["method"] for row in rows] == ["cli method"]
    assert float(rows[0]["top1_error"]) == pytest.approx(expected)


def test_the_cli_explains_what_went_wrong(live_server, toonnet, alice, cli_config, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run(capsys, "--server", live_server.url, "login", "-u", "alice", "-p", "wrong")
    assert code == 1 and "HTTP 400" in err and "Unable to log in" in err
    code, _, err = run(capsys, "--server", live_server.url, "submit", "toonnet", "--image", "a/b:1", "--method", "m")
    assert code == 3 and "HTTP 401" in err
    code, _, err = run(capsys, "--server", "http://127.0.0.1:9", "benchmarks")
    assert code == 5 and "cannot reach http://127.0.0.1:9" in err
    code, _, err = run(capsys, "--server", live_server.url, "submit", "toonnet", "--predictions",
                       str(tmp_path / "missing"), "--method", "m")
    assert code == 1 and "expected an output folder or a .zip" in err


def test_the_server_comes_from_the_environment_when_not_given(live_server, toonnet, cli_config, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TOONBENCH_SERVER", live_server.url)
    code, out, _ = run(capsys, "leaderboard", "toonnet")
    assert code == 0 and "sorted by top1_error" in out
