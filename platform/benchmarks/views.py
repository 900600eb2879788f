"""Benchmark pages: the list, one benchmark's protocol and leaderboard, the bundle download."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.cache import cache
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.functional import SimpleLazyObject

from benchmarks.bundles import BundleUnavailable, bundle_name, bundle_path, role_counts
from benchmarks.models import Benchmark, ProtocolVersion
from leaderboards.table import Cell, best_entry, cache_key, leaderboard_table, sort_metric
from submissions.models import Submission

LEADERBOARD_CACHE_S = 300


def split_words(split: dict[str, Any]) -> str:
    """The split section in words: ``stratified, 30% held out for test, seed 0``."""
    params = dict(split.get("params", {}))
    words = [str(split.get("method", "?"))]
    fraction = params.pop("test_fraction", None)
    if fraction is not None:
        words.append(f"{float(fraction) * 100:g}% held out for test")
    words += [f"{key.replace('_', ' ')} {value}" for key, value in sorted(params.items())]
    if "seed" in split:
        words.append(f"seed {split['seed']}")
    return ", ".join(words)


@dataclass
class BenchmarkCard:
    benchmark: Benchmark
    protocol: ProtocolVersion | None
    best: Submission | None
    best_cell: Cell | None


def home(request: HttpRequest) -> HttpResponse:
    cards = []
    for benchmark in Benchmark.objects.filter(is_active=True):
        protocol = benchmark.current_version()
        key = cache_key(protocol, benchmark.rank_by, page=0) + ":best"
        best = cache.get(key)
        if best is None:
            best = best_entry(benchmark) or (None, None)
            cache.set(key, best, LEADERBOARD_CACHE_S)
        cards.append(BenchmarkCard(benchmark, protocol, *best))
    return render(request, "benchmarks/home.html", {"cards": cards})


def selected_protocol(benchmark: Benchmark, requested: str) -> ProtocolVersion | None:
    """The protocol named by a hash prefix (``?version=``), else the current one."""
    if requested:
        protocol = benchmark.versions.filter(protocol_hash__startswith=requested[:64]).first()
        if protocol is None:
            raise Http404(f"{benchmark.slug} has no protocol version {requested!r}")
        return protocol
    return benchmark.current_version()


def page_number(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


def benchmark_detail(request: HttpRequest, slug: str) -> HttpResponse:
    benchmark = get_object_or_404(Benchmark, slug=slug)
    protocol = selected_protocol(benchmark, request.GET.get("version", ""))
    sort, page = sort_metric(benchmark, request.GET.get("sort")), page_number(request)
    table_key = cache_key(protocol, sort, page)
    # Visitors who are not logged in all see the same page: serve it whole from the cache.
    page_key = anonymous_page_key(request, table_key, benchmark)
    if page_key is not None and (body := cache.get(page_key)) is not None:
        return HttpResponse(body)
    # Ranking is computed only when the cached fragment is missing or stale (see cache_key).
    table = SimpleLazyObject(lambda: leaderboard_table(benchmark, protocol, sort, page))
    spec = protocol.spec if protocol is not None else benchmark.spec
    context = {
        "benchmark": benchmark,
        "protocol": protocol,
        "current": benchmark.current_version(),
        "versions": list(benchmark.versions.all()),
        "spec": spec,
        "split": split_words(spec.get("split", {})),
        "metrics": [dict(metric, is_rank=metric["name"] == benchmark.rank_by) for metric in spec.get("metrics", [])],
        "limits": spec.get("limits", {}),
        "classes": spec.get("classes", []),
        "roles": role_counts(slug) if protocol is not None and protocol.is_current else {},
        "task": benchmark.task_words,
        "table": table,
        "sort": sort,
        "table_key": table_key,
        "table_ttl_s": LEADERBOARD_CACHE_S,
    }
    response = render(request, "benchmarks/detail.html", context)
    if page_key is not None:
        cache.set(page_key, response.content, LEADERBOARD_CACHE_S)
    return response


def anonymous_page_key(request: HttpRequest, table_key: str, benchmark: Benchmark) -> str | None:
    """A whole-page cache key for a visitor with no account and no pending message; None otherwise."""
    if request.user.is_authenticated or len(messages.get_messages(request)):
        return None
    return f"page:{table_key}:{benchmark.updated.timestamp()}:{request.get_full_path()}"


def bundle_download(request: HttpRequest, slug: str) -> HttpResponse:
    benchmark = get_object_or_404(Benchmark, slug=slug)
    protocol = benchmark.current_version()
    if protocol is None:
        raise Http404(f"{slug} has no built protocol yet")
    return bundle_response(protocol)


def bundle_response(protocol: ProtocolVersion) -> HttpResponse:
    """The protocol's zip as an attachment (shared by the page and the API)."""
    try:
        path = bundle_path(protocol)
    except BundleUnavailable as exc:
        return HttpResponse(str(exc), status=503, content_type="text/plain; charset=utf-8")
    return FileResponse(open(path, "rb"), as_attachment=True, filename=bundle_name(protocol),
                        content_type="application/zip")
