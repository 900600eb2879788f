"""``--json`` on the read commands and the documented exit statuses, through the real entry point over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.urls import resolve

from cli_run import PASSWORD, RECORD_KEYS, login, run, run_json, server_refusal
from site_helpers import finished_submission
from submissions.models import Status, Submission

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

TOONBENCH = Path(sys.executable).parent / "toonbench"


def test_benchmarks_and_leaderboard_print_their_documented_records(  # type: ignore[no-untyped-def]
    live_server, toonnet, toonnet_built, alice, bob, cli_config, capsys
) -> None:
    first = finished_submission(alice, toonnet, toonnet_built, seed=21, method="alice's")
    second = finished_submission(bob, toonnet, toonnet_built, seed=22, method="bob's")
    finished_submission(bob, toonnet, toonnet_built, seed=23, method="bob's secret", is_public=False)

    _, benchmarks, _ = run_json(capsys, "--server", live_server.url, "benchmarks")
    assert benchmarks == [{
        "slug": "toonnet", "title": "ToonNet cartoon object classification", "task": "classification",
        "rank_by": "top1_error", "higher_is_better": False, "metrics": ["top1_error", "top3_error"],
        "protocol_hash": toonnet_built.protocol_hash,
    }]

    _, board, _ = run_json(capsys, "--server", live_server.url, "leaderboard", "toonnet")
    assert (board["benchmark"], board["protocol_hash"], board["sort"]) == ("toonnet", toonnet_built.protocol_hash,
                                                                          "top1_error")
    assert board["columns"] == [{"name": "top1_error", "higher_is_better": False},
                                {"name": "top3_error", "higher_is_better": False}]
    errors = {s.pk: s.result.metrics["top1_error"] for s in (first, second)}
    assert [row["submission"] for row in board["rows"]] == sorted(errors, key=lambda pk: (errors[pk], pk))
    for row in board["rows"]:
        assert set(row) == {"rank", "tied_with_above", "method", "team", "baseline", "submission", "submitted",
                            "metrics"}
        assert row["metrics"]["top1_error"]["value"] == pytest.approx(errors[row["submission"]])
        low, high = row["metrics"]["top1_error"]["ci95"]
        assert low <= row["metrics"]["top1_error"]["value"] <= high
    assert board["rows"][0]["rank"] == 1 and board["rows"][0]["baseline"] is False

    code, out, err = run(capsys, "--server", live_server.url, "leaderboard", "toonnet", "--json", "--csv")
    assert code == 2 and out == "" and "not allowed with argument" in err


def test_status_prints_the_record_with_the_log_only_to_its_owner(  # type: ignore[no-untyped-def]
    live_server, toonnet, toonnet_built, alice, bob, cli_config, capsys
) -> None:
    mine = finished_submission(alice, toonnet, toonnet_built, seed=24, method="alice's")
    secret = finished_submission(bob, toonnet, toonnet_built, seed=25, method="bob's secret", is_public=False)
    login(capsys, live_server.url, "alice")

    _, record, _ = run_json(capsys, "status", str(mine.pk))
    assert set(record) == RECORD_KEYS | {"log_tail"}
    assert (record["id"], record["status"], record["owner"], record["benchmark"]) == (mine.pk, "finished", "alice",
                                                                                      "toonnet")
    assert record["protocol_hash"] == toonnet_built.protocol_hash
    assert record["metrics"] == pytest.approx(mine.result.metrics)
    assert record["log_tail"] == "log of alice's: secret internals"

    login(capsys, live_server.url, "bob")
    _, seen, _ = run_json(capsys, "status", str(mine.pk))
    assert seen["log_tail"] is None
    assert seen["metrics"]["top1_error"] == pytest.approx(mine.result.metrics["top1_error"])
    login(capsys, live_server.url, "alice")
    code, out, err = run(capsys, "status", str(secret.pk), "--json")
    assert code == 4 and out == ""
    assert (404, err) == server_refusal(live_server.url, alice, "GET", f"submissions/{secret.pk}/")


def test_status_exits_1_for_a_failed_submission_and_6_when_waiting_runs_out(  # type: ignore[no-untyped-def]
    live_server, toonnet, alice, cli_config, capsys
) -> None:
    protocol = toonnet.current_version()
    failed = Submission.objects.create(owner=alice, benchmark=toonnet, protocol=protocol, kind="predictions",
                                       method_name="broken", status=Status.FAILED,
                                       status_reason="scores.npy: expected shape (24, 12), got (24, 11)")
    waiting = Submission.objects.create(owner=alice, benchmark=toonnet, protocol=protocol, kind="predictions",
                                        method_name="waiting", status=Status.QUEUED)
    login(capsys, live_server.url, "alice")

    code, out, _ = run(capsys, "status", str(failed.pk), "--json")
    assert code == 1
    assert json.loads(out)["status_reason"] == "scores.npy: expected shape (24, 12), got (24, 11)"
    code, out, err = run(capsys, "status", str(waiting.pk), "--wait", "--interval", "0.1", "--timeout", "0.3", "--json")
    assert code == 6 and json.loads(out)["status"] == "queued"
    assert f"still queued after 0.3 s; check later with `toonbench status {waiting.pk}`" in err
    code, _, _ = run(capsys, "status", str(waiting.pk))
    assert code == 0


def test_a_failing_or_unreachable_server_exits_5_and_a_wrong_path_4(  # type: ignore[no-untyped-def]
    live_server, toonnet, cli_config, monkeypatch, capsys
) -> None:
    def broken(self):  # type: ignore[no-untyped-def]
        raise RuntimeError("the database went away")

    monkeypatch.setattr(resolve("/api/v1/benchmarks/").func.view_class, "get_queryset", broken)
    code, out, err = run(capsys, "--server", live_server.url, "benchmarks", "--json")
    assert code == 5 and out == "" and err.startswith("toonbench: HTTP 500: ") and err.count("\n") == 1
    code, _, err = run(capsys, "--server", "http://127.0.0.1:9", "submissions")
    assert code == 5 and err == "toonbench: cannot reach http://127.0.0.1:9 (ConnectionError); check --server\n"
    code, _, err = run(capsys, "--server", f"{live_server.url}/elsewhere", "benchmarks")
    assert code == 4 and err == "toonbench: HTTP 404: there is no such page\n"


class ProxyErrorPage(BaseHTTPRequestHandler):
    """What a reverse proxy answers while the site behind it is down: a multi-line HTML page."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        page = b"<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n<h1>502</h1>\n</body>\n</html>\n"
        self.send_response(502)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, *args: object) -> None:
        pass


def test_an_html_error_page_in_front_of_the_api_is_named_not_quoted(  # type: ignore[no-untyped-def]
    cli_config, capsys
) -> None:
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), ProxyErrorPage)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        code, out, err = run(capsys, "--server", f"http://127.0.0.1:{proxy.server_port}", "leaderboard", "toonnet",
                             "--json")
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert (code, out) == (5, "")
    assert err == "toonbench: HTTP 502: Bad Gateway (not an answer of the ToonBench API; check --server)\n"


def test_the_installed_command_keeps_stdout_for_json_and_documents_its_exit_statuses(  # type: ignore[no-untyped-def]
    live_server, toonnet, toonnet_built, alice, cli_config
) -> None:
    mine = finished_submission(alice, toonnet, toonnet_built, seed=26, method="from a script")

    def toonbench(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(TOONBENCH), "--server", live_server.url, *argv], capture_output=True, text=True,
                              timeout=120, check=False)

    assert toonbench("login", "-u", "alice", "-p", PASSWORD).returncode == 0
    listed = toonbench("submissions", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [(s["id"], s["method_name"]) for s in json.loads(listed.stdout)["results"]] == [(mine.pk, "from a script")]
    waited = toonbench("status", str(mine.pk), "--wait", "--interval", "0.1", "--json")
    assert waited.returncode == 0 and json.loads(waited.stdout)["status"] == "finished"
    assert f"#{mine.pk}" in waited.stderr

    helped = toonbench("--help")
    assert helped.returncode == 0
    statuses = helped.stdout.split("exit status:")[1]
    for line in ("0    done", "1    the submission failed", "2    usage error", "3    not signed in",
                 "4    no such submission", "5    the server cannot be reached", "6    --wait --timeout ran out"):
        assert f"\n  {line}" in statuses
    assert toonbench("submissions", "--limit", "0").returncode == 2
