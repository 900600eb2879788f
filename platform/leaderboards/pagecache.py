"""The home and benchmark pages for anonymous visitors, answered from memory before Django's middleware and views.

Under load the page view costs a few milliseconds even when its whole page is
cached (session, CSRF, auth and message middleware, the URL resolver, two
queries for the benchmark and its protocol). ``AnonymousPageCache`` wraps the
WSGI application and keeps, per process, the status, headers and bytes of
``/`` and ``/benchmarks/<slug>/`` pages (both show leaderboard numbers) rendered for visitors without a session, CSRF or
messages cookie and without an ``Authorization`` header. A page is served
again only while the site's leaderboard version is unchanged: a stored,
replaced or deleted result, a submission shown or hidden, a new or switched
protocol, an edited benchmark and a team's changed choice of entry all move it. Each process re-reads the
version at most every ``TOONBENCH_PAGE_CACHE_RECHECK_S`` seconds, so a change
shows within that window. A response that sets a cookie, or is anything but a
200, is never kept. This is the site's one page cache: signed-in visitors'
pages (which carry their own name and submissions) are rendered fresh.

A benchmark page's comparison figures are kept with it: the page links each
board figure by the digest of what it draws (``leaderboards.figure_store``),
so a kept page stays small and points at images whose content never
changes, and a page rendered again after an unrelated change links the same,
already drawn files. A kept page holds only figures that every anonymous
visitor may see; the per-class bars of a participant's own entries go into
signed-in pages only, which are never kept here.

A page is kept under the parameters that choose it, normalised as the view
reads them (``canonical_query``): ``version`` as the full hash it selects,
``sort`` only when it names a leaderboard metric other than the rank metric,
``view`` only when it is ``all``, ``page`` as a number clamped to the pages there are; everything else in the
query string is dropped, and Django renders the page from that normalised
query. So ``?r=1``, ``?r=2``, ``?sort=junk`` or ``?page=01`` are the same
kept page, and no made-up query string can skip the cache or push real pages
out of it. A ``version`` that names no protocol is left to Django (a 404),
and so is any ``phase``: a competition phase's board is rendered fresh. A
host's change to a phase (its dates, its visibility, a reveal) moves the
version; a board that opens at a phase's close shows within ``PAGE_TTL_S``.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.handlers.wsgi import get_bytes_from_wsgi
from django.db import DatabaseError, connections
from django.db.models import Count, Max, Q, Sum
from django.http import QueryDict, parse_cookie

from benchmarks.models import Benchmark, Phase, ProtocolVersion
from leaderboards.queries import leaderboard_metrics
from leaderboards.table import PAGE_SIZE
from results.models import ComparisonState, MetricValue, PairedComparison
from submissions.models import Status, Submission

PAGE_PATH = re.compile(r"^/(benchmarks/[-\w]+/)?$")  # the home page and each benchmark page
PAGE_TTL_S = 300  # edits that move no version number (a method renamed in the admin) show after this
MAX_PAGES = 512
MESSAGES_COOKIE = "messages"

StartResponse = Callable[..., Any]
Headers = list[tuple[str, str]]


def site_version() -> tuple[Any, ...]:
    """Numbers that move whenever any leaderboard page can change (cheap aggregates and counts);
    a paired test that a worker finishes moves them too."""
    values = MetricValue.objects.aggregate(newest=Max("id"), count=Count("id"))
    shown = Submission.objects.filter(status=Status.FINISHED, is_public=True).count()
    chosen = Submission.objects.filter(chosen=True).aggregate(count=Count("id"), ids=Sum("id"))
    benchmarks = Benchmark.objects.aggregate(updated=Max("updated"), count=Count("id"))
    current = tuple(ProtocolVersion.objects.filter(is_current=True).order_by("id").values_list("id", flat=True))
    protocols = ProtocolVersion.objects.aggregate(newest=Max("id"))
    tests = PairedComparison.objects.filter(~Q(state=ComparisonState.PENDING)).aggregate(
        newest=Max("finished_at"), count=Count("id"))
    phases = Phase.objects.aggregate(updated=Max("updated"), count=Count("id"))
    return (values["newest"], values["count"], shown, chosen["count"], chosen["ids"], benchmarks["updated"],
            benchmarks["count"], current, protocols["newest"], tests["newest"], tests["count"], phases["updated"],
            phases["count"])


@dataclass(frozen=True)
class Vocabulary:
    """What a benchmark page's parameters can name, read with the site version."""

    sorts: dict[str, tuple[str, ...]] = field(default_factory=dict)  # slug -> leaderboard metrics, rank metric first
    versions: dict[str, tuple[str, ...]] = field(default_factory=dict)  # slug -> hashes, in the order ?version= tries
    pages: dict[str, int] = field(default_factory=dict)  # slug -> the most table pages any of its protocols has


def page_vocabulary() -> Vocabulary:
    """Leaderboard metrics, protocol hashes and page counts of every benchmark (three queries)."""
    sorts = {benchmark.slug: tuple(leaderboard_metrics(benchmark)) for benchmark in Benchmark.objects.all()}
    versions: dict[str, tuple[str, ...]] = {}
    for slug, digest in ProtocolVersion.objects.order_by("benchmark", "-created").values_list(
            "benchmark__slug", "protocol_hash"):
        versions[slug] = (*versions.get(slug, ()), digest)
    rows = (Submission.objects.filter(status=Status.FINISHED, is_public=True)
            .values_list("benchmark__slug", "protocol_id").annotate(count=Count("id")).order_by())
    pages: dict[str, int] = {}
    for slug, _, count in rows:
        pages[slug] = max(pages.get(slug, 1), -(-count // PAGE_SIZE))
    return Vocabulary(sorts, versions, pages)


def canonical_query(path: str, query: QueryDict, words: Vocabulary) -> str | None:
    """The normalised query string of the page a request asks for (module docstring); None leaves it to Django."""
    slug = path.strip("/").split("/")[1] if path.startswith("/benchmarks/") else ""
    if not slug:
        return ""
    if slug not in words.sorts or "phase" in query:
        return None
    chosen: list[tuple[str, str]] = []
    requested = query.get("version", "")
    if requested:
        named = [digest for digest in words.versions.get(slug, ()) if digest.startswith(requested[:64])]
        if not named:
            return None
        chosen.append(("version", named[0]))
    sort = query.get("sort")
    if sort in words.sorts[slug][1:]:
        chosen.append(("sort", sort))
    if query.get("view") == "all":
        chosen.append(("view", "all"))
    page = min(page_number(query.get("page", "1")), words.pages.get(slug, 1))
    if page > 1:
        chosen.append(("page", str(page)))
    return urlencode(chosen)


def page_number(text: str) -> int:
    """The page as ``leaderboards.views.page_number`` reads it."""
    try:
        return max(1, int(text))
    except ValueError:
        return 1


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


def request_key(environ: dict[str, Any], query: str) -> tuple[str, ...]:
    """Everything of the request the anonymous page may depend on: where it was asked, and what (``query``
    normalised by ``canonical_query``)."""
    return (environ.get("wsgi.url_scheme", ""), environ.get("HTTP_X_FORWARDED_PROTO", ""),
            environ.get("HTTP_HOST", ""), environ.get("PATH_INFO", ""), query)


class AnonymousPageCache:
    """WSGI middleware: ``application = AnonymousPageCache(get_wsgi_application())``."""

    def __init__(self, app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]]) -> None:
        self.app = app
        self.pages: OrderedDict[tuple[str, ...], tuple[Any, float, str, Headers, bytes]] = OrderedDict()
        self.lock = threading.Lock()
        self.version: Any = None
        self.vocabulary = Vocabulary()
        self.version_read_at = float("-inf")

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if not is_anonymous_page_request(environ):
            return self.app(environ, start_response)
        try:
            version = self.current_version()
        except DatabaseError:  # let Django answer (and log) as it would without the cache
            return self.app(environ, start_response)
        asked = QueryDict(get_bytes_from_wsgi(environ, "QUERY_STRING", ""), encoding=settings.DEFAULT_CHARSET)
        query = canonical_query(environ.get("PATH_INFO", ""), asked, self.vocabulary)
        if query is None:
            return self.app(environ, start_response)
        environ = {**environ, "QUERY_STRING": query}
        key = request_key(environ, query)
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
        """The site version (and the page vocabulary), re-read at most every recheck window by one thread."""
        recheck_s = settings.TOONBENCH_PAGE_CACHE_RECHECK_S
        with self.lock:
            if time.monotonic() - self.version_read_at >= recheck_s:
                self.version, self.vocabulary = site_version(), page_vocabulary()
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
