"""The embedded default is safe to run: gunicorn with DEBUG off on loopback, a generated secret key, plain errors.

Before, ``scripts/run.sh`` served with ``runserver`` and DEBUG defaulted to on, so a
malformed upload answered 500 with the debug page and the settings. Here the site is
started by ``scripts/serve.sh`` (what run.sh runs) with no DEBUG or SECRET_KEY set.
"""

from __future__ import annotations

import socket
import stat
from pathlib import Path
from typing import Iterator

import pytest
import requests
from django.test import Client

from datasets.build import BuiltBenchmark
from hostile_archives import zip_entries, zip_lying_about_size
from live_site import manage, served, site_environment, user_token
from site_helpers import npy_bytes
from toonnet_outputs import seeded_scores

pytestmark = pytest.mark.slow

MB = 1024 * 1024
DEBUG_PAGE_MARKERS = ("Traceback", "DEBUG = True", "SECRET_KEY", "Using the URLconf", "django-insecure", "Request Method")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, data_root: Path) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("deployment")
    env = site_environment(folder, data_root)
    manage(env, "collectstatic", "--noinput", "-v0")
    env["TOKEN"] = user_token(env)
    return env


@pytest.fixture(scope="module")
def site(deployment: dict[str, str]) -> Iterator[str]:
    folder = Path(deployment["TOONBENCH_VAR_DIR"]).parent
    with served(deployment, folder / "site.log") as base:
        yield base


def test_it_serves_with_gunicorn_debug_off_and_a_generated_secret_key(site: str, deployment: dict[str, str]) -> None:
    home = requests.get(f"{site}/", timeout=30)
    assert home.status_code == 200 and home.headers["Server"].startswith("gunicorn")
    css = home.text.split('rel="stylesheet" href="')[1].split('"')[0]
    assert css != "/static/toonbench.css" and requests.get(f"{site}{css}", timeout=30).status_code == 200
    key_file = Path(deployment["TOONBENCH_VAR_DIR"]) / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and len(key_file.read_text()) >= 50
    debug = manage(deployment, "shell", "-c", "from django.conf import settings; print(settings.DEBUG)")
    assert debug.strip().splitlines()[-1] == "False"


def test_a_missing_page_is_a_plain_404(site: str) -> None:
    response = requests.get(f"{site}/no/such/page/", timeout=30)
    assert response.status_code == 404
    assert "404 Not found" in response.text and "There is no such page." in response.text
    assert not [marker for marker in DEBUG_PAGE_MARKERS if marker in response.text]


@pytest.mark.parametrize("case", ["lying-size-header", "member-dot"])
def test_malformed_zips_are_400_with_a_reason_not_a_debug_page(
    site: str, deployment: dict[str, str], toonnet_built: BuiltBenchmark, case: str
) -> None:
    scores = npy_bytes(seeded_scores(toonnet_built))
    archive, reason = {
        "lying-size-header": (zip_lying_about_size(scores, 100), "member 'scores.npy' cannot be unpacked"),
        "member-dot": (zip_entries([".", "scores.npy"], scores), "member '.' has a '.' path component"),
    }[case]
    response = requests.post(
        f"{site}/api/submissions/", headers={"Authorization": f"Token {deployment['TOKEN']}"}, timeout=60,
        data={"benchmark": "toonnet", "kind": "predictions", "method_name": case},
        files={"artefact": ("p.zip", archive, "application/zip")},
    )
    assert response.status_code == 400
    assert reason in response.json()["error"] and response.json()["field"] == "artefact"


def test_a_300_mb_anonymous_post_is_answered_413_before_it_is_sent(site: str, deployment: dict[str, str]) -> None:
    host, port = site.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(
            f"POST /accounts/login/ HTTP/1.1\r\nHost: {host}\r\nContent-Length: {300 * MB}\r\n"
            "Content-Type: multipart/form-data; boundary=x\r\n\r\n".encode()
        )  # the answer comes from the headers alone: the server never waits for the body
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += connection.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413")
    assert list((Path(deployment["TMPDIR"])).iterdir()) == []


def test_wrong_passwords_are_throttled_across_the_servers_workers(site: str) -> None:
    guesses = [requests.post(f"{site}/api/auth/token/", data={"username": "alice", "password": f"guess {n}"},
                             timeout=30).status_code for n in range(10)]
    assert guesses == [400] * 10
    refused = requests.post(f"{site}/api/auth/token/", data={"username": "alice", "password": "correct horse battery"},
                            timeout=30)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0


@pytest.mark.django_db
def test_a_server_error_is_a_plain_500(monkeypatch: pytest.MonkeyPatch, toonnet) -> None:  # type: ignore[no-untyped-def]
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("failure naming /srv/toonbench/secret/path")

    monkeypatch.setattr("leaderboards.views.leaderboard_table", broken)
    client = Client(raise_request_exception=False)
    page = client.get("/benchmarks/toonnet/leaderboard.csv")
    assert page.status_code == 500
    text = page.content.decode()
    assert "500 Server error" in text and "Something went wrong on the server; the error was logged." in text
    assert "RuntimeError" not in text and "/srv/toonbench" not in text
    monkeypatch.setattr("api.views.leaderboard_table", broken)
    api = client.get("/api/benchmarks/toonnet/leaderboard/")
    assert api.status_code == 500
    assert api.json() == {"error": "something went wrong on the server; the error was logged", "field": None}
