"""Running ``toonbench`` in the test process (exit status, stdout, stderr), and what the API itself answers."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from rest_framework.authtoken.models import Token

from toonbench_cli.main import main

PASSWORD = "correct horse battery"
# docs/cli.md: the keys of a submission record, kept whatever the server adds.
RECORD_KEYS = {"id", "benchmark", "method_name", "kind", "status", "status_reason", "is_public", "is_baseline", "owner",
               "team", "description", "created", "finished_at", "protocol_hash", "metrics", "ci95", "url"}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    """A ``--json`` command: stdout must be exactly one JSON document."""
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return code, json.loads(out), err


def login(capsys: pytest.CaptureFixture[str], server: str, username: str) -> None:
    code, _, err = run(capsys, "--server", server, "login", "-u", username, "-p", PASSWORD)
    assert code == 0, err


def server_refusal(server: str, user: Any, method: str, path: str, **body: Any) -> tuple[int, str]:
    """(status, the line ``toonbench`` should print) for a request the API refuses, asked over HTTP directly."""
    token = Token.objects.get_or_create(user=user)[0].key
    response = requests.request(method, f"{server}/api/v1/{path}", headers={"Authorization": f"Token {token}"},
                                json=body or None, timeout=30)
    assert response.status_code >= 400, response.text
    return response.status_code, f"toonbench: HTTP {response.status_code}: {response.json()['error']}\n"
