"""The home and benchmark pages for anonymous visitors, answered from memory before Django's middleware and views.

Under load the page view costs a few milliseconds even when its whole page is
cached (session, CSRF, auth and message middleware, the URL resolver, two
queries for the benchmark and its protocol). ``AnonymousPageCache`` wraps the
WSGI application and keeps, per process, the status, headers and bytes of
``/`` and ``/benchmarks/<slug>/`` pages (both show leaderboard numbers) rendered for visitors without a session, CSRF or
messages cookie and without an ``Authorization`` header. A page is served
again only while the site's leaderboard version is unchanged: a stored,
replaced or deleted result, a submission shown or hidden, a new or switched
protocol and an edited benchmark all move it. Each process re-reads the
version at most every ``TOONBENCH_PAGE_CACHE_RECHECK_S`` seconds, so a change
shows within that window. A response that sets a cookie, or is anything but a
200, is never kept. This is the site's one page cache: signed-in visitors'
pages (which carry their own name and submissions) are rendered fresh.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections
from django.db.models import Count, Max
from django.http import parse_cookie

from benchmarks.models import Benchmark, ProtocolVersion
from submissions.models import MetricValue, Status, Submission

PAGE_PATH = re.compile(r"^/(benchmarks/[-\w]+/)?$")  # the home page and each benchmark page
PAGE_TTL_S = 300  # edits that move no version number (a method renamed in the admin) show after this
MAX_PAGES = 512
MESSAGES_COOKIE = "messages"

StartResponse = Callable[..., Any]
Headers = list[tuple[str, str]]


def site_version() -> tuple[Any, ...]:
    """Numbers that move whenever any leaderboard page can change (two cheap aggregates and a count)."""
    values = MetricValue.objects.aggregate(newest=Max("id"), count=Count("id"))
    shown = Submission.objects.filter(status=Status.FINISHED, is_public=True).count()
    benchmarks = Benchmark.objects.aggregate(updated=Max("updated"), count=Count("id"))
    current = tuple(ProtocolVersion.objects.filter(is_current=True).order_by("id").values_list("id", flat=True))
    protocols = ProtocolVersion.objects.aggregate(newest=Max("id"))
    return (values["newest"], values["count"], shown, benchmarks["updated"], benchmarks["count"], current,
            protocols["newest"])


def is_anonymous_page_request(environ: dict[str, Any]) -> bool:
    """A GET of a benchmark page by a visitor who carries no login, CSRF or message state."""
    if environ.get("REQUEST_METHOD") != "GET" or not PAGE_PATH.match(environ.get("PATH_INFO", "")):
        return False
    if environ.get("HTTP_AUTHORIZATION"):
        return False
    private = {settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME, MESSAGES_COOKIE}
    return not private & parse_cookie(environ.get("HTTP_COOKIE", "")).keys()


def is_cacheable(status: str, headers: Headers) -> bool:
    return status.startswith("200 ") and not any(name.lower() == "set-cookie" for name, _ in headers)


def request_key(environ: dict[str, Any]) -> tuple[str, ...]:
    """Everything of the request the anonymous page may depend on: where it was asked, and what."""
    return (environ.get("wsgi.url_scheme", ""), environ.get("HTTP_X_FORWARDED_PROTO", ""),
            environ.get("HTTP_HOST", ""), environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""))


class AnonymousPageCache:
    """WSGI middleware: ``application = AnonymousPageCache(get_wsgi_application())``."""

    def __init__(self, app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]]) -> None:
        self.app = app
        self.pages: OrderedDict[tuple[str, ...], tuple[Any, float, str, Headers, bytes]] = OrderedDict()
        self.lock = threading.Lock()
        self.version: Any = None
        self.version_read_at = float("-inf")

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if not is_anonymous_page_request(environ):
            return self.app(environ, start_response)
        try:
            version = self.current_version()
        except DatabaseError:  # let Django answer (and log) as it would without the cache
            return self.app(environ, start_response)
        key = request_key(environ)
        with self.lock:
            found = self.pages.get(key)
        if found is not None and found[0] == version and time.monotonic() - found[1] < PAGE_TTL_S:
            _, _, status, headers, body = found
            start_response(status, headers)
            return [body]
        status, headers, body = self.render(environ)
        if is_cacheable(status, headers):
            with self.lock:
                self.pages[key] = (version, time.monotonic(), status, headers, body)
                self.pages.move_to_end(key)
                while len(self.pages) > MAX_PAGES:
                    self.pages.popitem(last=False)
        start_response(status, headers)
        return [body]

    def current_version(self) -> Any:
        """The site version, re-read at most every recheck window by one thread of this process."""
        recheck_s = settings.TOONBENCH_PAGE_CACHE_RECHECK_S
        with self.lock:
            if time.monotonic() - self.version_read_at >= recheck_s:
                self.version = site_version()
                self.version_read_at = time.monotonic()
                release_idle_connections()
            return self.version

    def render(self, environ: dict[str, Any]) -> tuple[str, Headers, bytes]:
        """Run the Django application and collect its whole answer (benchmark pages are small)."""
        answer: dict[str, Any] = {}

        def capture(status: str, headers: Headers, exc_info: Any = None) -> Callable[[bytes], None]:
            answer.update(status=status, headers=list(headers))
            return lambda chunk: answer.setdefault("written", []).append(chunk)

        result = self.app(environ, capture)
        try:
            chunks = [*answer.get("written", []), *result]
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return answer["status"], answer["headers"], b"".join(chunks)


def release_idle_connections() -> None:
    """Close what the version read opened, as Django does after a request (never inside a transaction)."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()
