"""A request-size cap on every route: big bodies are refused from their headers, before a byte is read.

Before the cap, a 300 MB anonymous POST to the login page was read and
spooled to /tmp in full. Requests go through the site's real WSGI entry point
(``toonbench_site.wsgi.application``) with a body stream that counts what the
site reads from it.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Iterator
from wsgiref.util import setup_testing_defaults

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import get_resolver
from pytest_django.fixtures import Settings

from site_helpers import zip_bytes
from toonbench_site.wsgi import application

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


class CountingBody(io.RawIOBase):
    """A request body of ``size`` bytes made on demand; ``read_bytes`` is how much the site took."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        count = min(len(buffer), self.left)
        buffer[:count] = b"a" * count
        self.left -= count
        self.read_bytes += count
        return count


def call_site(method: str, path: str, body: CountingBody, **headers: str) -> tuple[int, dict[str, str], bytes]:
    environ: dict[str, object] = {"REQUEST_METHOD": method, "PATH_INFO": path, "REMOTE_ADDR": "127.0.0.1",
                                  "wsgi.input": io.BufferedReader(body), **headers}
    setup_testing_defaults(environ)
    answer: dict[str, object] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: object = None) -> None:
        answer["status"], answer["headers"] = int(status.split()[0]), dict(response_headers)

    content = b"".join(application(environ, start_response))
    return int(answer["status"]), answer["headers"], content  # type: ignore[return-value]


@pytest.fixture
def spool_dir(settings: Settings, tmp_path: Path) -> Iterator[Path]:
    """Where Django would spool uploaded files; must stay empty."""
    folder = tmp_path / "spool"
    folder.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(folder)
    yield folder


def test_a_300_mb_anonymous_post_to_the_login_page_is_refused_unread(spool_dir: Path) -> None:
    body = CountingBody(300 * MB)
    status, headers, content = call_site(
        "POST", "/accounts/login/", body, CONTENT_LENGTH=str(300 * MB),
        CONTENT_TYPE="multipart/form-data; boundary=xyz",
    )
    assert status == 413
    assert "The request body is 300.0 MB, over this page&#x27;s limit of 10 MB." in content.decode()
    assert body.read_bytes == 0
    assert list(spool_dir.iterdir()) == []


def test_api_routes_answer_413_as_json(spool_dir: Path) -> None:
    body = CountingBody(50 * MB)
    status, headers, content = call_site("POST", "/api/auth/token/", body, CONTENT_LENGTH=str(50 * MB),
                                         CONTENT_TYPE="application/json")
    assert status == 413 and headers["Content-Type"] == "application/json"
    assert json.loads(content) == {"error": "the request body is 50.0 MB, over this page's limit of 10 MB",
                                   "field": None}
    assert body.read_bytes == 0


def test_a_chunked_body_without_content_length_is_refused_unread(spool_dir: Path) -> None:
    body = CountingBody(300 * MB)
    status, _, content = call_site("POST", "/accounts/signup/", body, HTTP_TRANSFER_ENCODING="chunked",
                                   CONTENT_TYPE="multipart/form-data; boundary=xyz")
    assert status == 411
    assert "Send the request body with a Content-Length header." in content.decode()
    assert body.read_bytes == 0


@pytest.mark.parametrize("length", ["lots", "-5"])
def test_a_malformed_content_length_is_a_400(length: str) -> None:
    status, _, content = call_site("POST", "/accounts/login/", CountingBody(0), CONTENT_LENGTH=length)
    assert status == 400 and b"Content-Length" in content


def test_a_body_under_the_cap_reaches_the_page(client, alice) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/accounts/login/", {"username": "alice", "password": "correct horse battery",
                                                "padding": "x" * (2 * MB)})
    assert response.status_code == 302


def test_upload_routes_keep_their_own_larger_cap(client, alice, toonnet) -> None:  # type: ignore[no-untyped-def]
    client.force_login(alice)
    big = SimpleUploadedFile("p.zip", zip_bytes({"../escape.npy": bytes(12 * MB)}))
    response = client.post("/api/submissions/", {"benchmark": "toonnet", "kind": "predictions",
                                                 "method_name": "big", "artefact": big})
    assert response.status_code == 400  # read and checked by the upload route, not refused for its size
    assert "unsafe path" in response.json()["error"] and response.json()["field"] == "artefact"


def test_every_upload_route_name_exists() -> None:
    names = {key for key in get_resolver().reverse_dict.keys() if isinstance(key, str)}
    assert set(django_settings.TOONBENCH_UPLOAD_URL_NAMES) <= names
