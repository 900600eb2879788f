"""Anonymous benchmark pages served from memory by the WSGI wrapper (leaderboards/pagecache.py).

Requests go through the real WSGI stack (``toonbench_site.wsgi.application``'s
wrapper around Django's handler), as gunicorn calls it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from leaderboards.pagecache import AnonymousPageCache
from site_helpers import finished_submission

pytestmark = pytest.mark.django_db

ROW_LINK = re.compile(r'<td class="method"><a href="/submissions/(\d+)/">')


def wsgi_get(app: AnonymousPageCache, path: str, query: str = "", cookie: str = "",
             **extra: str) -> tuple[str, list[tuple[str, str]], bytes]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, "SERVER_NAME": "testserver",
        "SERVER_PORT": "80", "HTTP_HOST": "testserver", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(), "SERVER_PROTOCOL": "HTTP/1.1", **extra,
    }
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        answer.update(status=status, headers=headers)

    body = b"".join(app(environ, start_response))
    return answer["status"], answer["headers"], body


def row_ids(body: bytes) -> list[int]:
    return [int(pk) for pk in ROW_LINK.findall(body.decode())]


@pytest.fixture
def app(site) -> Iterator[AnonymousPageCache]:  # type: ignore[no-untyped-def]
    """The wrapper around Django's own WSGI handler, version re-read on every request.

    As Django's test client does, requests keep the test's database connection open.
    """
    site.TOONBENCH_PAGE_CACHE_RECHECK_S = 0
    cache.clear()
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield AnonymousPageCache(WSGIHandler())
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_an_anonymous_visitor_gets_the_kept_page_until_a_new_result_moves_the_version(app, toonnet, alice, toonnet_built) -> None:  # type: ignore[no-untyped-def]
    first = finished_submission(alice, toonnet, toonnet_built, seed=1, method="first")
    status, _, body = wsgi_get(app, "/benchmarks/toonnet/")
    assert status.startswith("200") and row_ids(body) == [first.pk]
    assert len(app.pages) == 1
    kept = next(iter(app.pages.values()))
    assert wsgi_get(app, "/benchmarks/toonnet/")[2] == kept[-1]

    second = finished_submission(alice, toonnet, toonnet_built, seed=2, method="second")
    _, _, body = wsgi_get(app, "/benchmarks/toonnet/", query="view=all")
    assert sorted(row_ids(body)) == sorted([first.pk, second.pk])


def test_a_page_is_served_from_memory_without_reaching_django(app, toonnet, alice, toonnet_built) -> None:  # type: ignore[no-untyped-def]
    finished_submission(alice, toonnet, toonnet_built, seed=1, method="first")
    calls = []
    inner = app.app
    app.app = lambda environ, start_response: calls.append(environ["PATH_INFO"]) or inner(environ, start_response)
    first = wsgi_get(app, "/benchmarks/toonnet/", query="sort=top3_error")
    second = wsgi_get(app, "/benchmarks/toonnet/", query="sort=top3_error")
    other_query = wsgi_get(app, "/benchmarks/toonnet/", query="page=2")
    assert first == second and other_query[2] != b""
    assert calls == ["/benchmarks/toonnet/", "/benchmarks/toonnet/"]


def test_the_home_page_is_kept_too_and_follows_new_results(app, toonnet, alice, toonnet_built) -> None:  # type: ignore[no-untyped-def]
    finished_submission(alice, toonnet, toonnet_built, seed=1, method="first method")
    calls = []
    inner = app.app
    app.app = lambda environ, start_response: calls.append(environ["PATH_INFO"]) or inner(environ, start_response)
    first = wsgi_get(app, "/")
    assert first[0].startswith("200") and wsgi_get(app, "/") == first
    assert calls == ["/"]

    finished_submission(alice, toonnet, toonnet_built, seed=2, method="second method")
    wsgi_get(app, "/")
    assert calls == ["/", "/"]


def test_a_logged_in_user_never_gets_the_anonymous_page(app, client, toonnet, alice, toonnet_built) -> None:  # type: ignore[no-untyped-def]
    finished_submission(alice, toonnet, toonnet_built, seed=1, method="first")
    _, _, anonymous = wsgi_get(app, "/benchmarks/toonnet/")
    assert b"My submissions" not in anonymous
    client.force_login(alice)
    session = client.cookies["sessionid"].value
    status, _, personal = wsgi_get(app, "/benchmarks/toonnet/", cookie=f"sessionid={session}")
    assert status.startswith("200") and b"My submissions" in personal and b"alice" in personal
    assert all(b"My submissions" not in page[-1] for page in app.pages.values())
    assert wsgi_get(app, "/benchmarks/toonnet/")[2] == anonymous


@pytest.mark.parametrize("extra", [{"HTTP_AUTHORIZATION": "Token abc"}, {"HTTP_COOKIE": "csrftoken=abc"},
                                   {"HTTP_COOKIE": "messages=abc"}, {"REQUEST_METHOD": "POST"}])
def test_requests_with_credentials_or_state_bypass_the_cache(app, toonnet, extra) -> None:  # type: ignore[no-untyped-def]
    wsgi_get(app, "/benchmarks/toonnet/", **extra)
    assert len(app.pages) == 0


def test_responses_that_set_a_cookie_or_fail_are_never_kept(app, toonnet) -> None:  # type: ignore[no-untyped-def]
    inner = app.app

    def with_cookie(environ, start_response):  # type: ignore[no-untyped-def]
        def add_cookie(status, headers, exc_info=None):  # type: ignore[no-untyped-def]
            return start_response(status, [*headers, ("Set-Cookie", "sessionid=someone")])
        return inner(environ, add_cookie)

    app.app = with_cookie
    status, headers, _ = wsgi_get(app, "/benchmarks/toonnet/")
    assert status.startswith("200") and ("Set-Cookie", "sessionid=someone") in headers
    assert len(app.pages) == 0
    app.app = inner
    status, _, _ = wsgi_get(app, "/benchmarks/no-such-benchmark/")
    assert status.startswith("404") and len(app.pages) == 0


def test_made_up_query_parameters_share_the_kept_page_and_push_nothing_out(app, toonnet, alice, toonnet_built) -> None:  # type: ignore[no-untyped-def]
    finished_submission(alice, toonnet, toonnet_built, seed=1, method="first")
    home = wsgi_get(app, "/")
    board = wsgi_get(app, "/benchmarks/toonnet/")
    kept = dict(app.pages)
    calls = []
    inner = app.app
    app.app = lambda environ, start_response: calls.append(environ["QUERY_STRING"]) or inner(environ, start_response)
    for query in ("r=1", "r=2", *(f"r={n}" for n in range(3, 40)), "sort=junk", "sort=top1_error", "page=01",
                  "page=7", "page=x", "r=1&page=1"):
        assert wsgi_get(app, "/benchmarks/toonnet/", query=query) == board
    assert wsgi_get(app, "/", query="r=5") == home
    assert calls == [] and app.pages == kept and len(app.pages) == 2

    other = wsgi_get(app, "/benchmarks/toonnet/", query="sort=top3_error&r=9")
    assert other[0].startswith("200") and calls == ["sort=top3_error"] and len(app.pages) == 3
    version = toonnet.current_version().protocol_hash
    assert wsgi_get(app, "/benchmarks/toonnet/", query=f"version={version[:8]}")[0].startswith("200")
    assert calls[-1] == f"version={version}"
    missing = wsgi_get(app, "/benchmarks/toonnet/", query="version=0000000000")
    assert missing[0].startswith("404") and len(app.pages) == 4
