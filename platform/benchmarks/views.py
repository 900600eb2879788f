"""Benchmark pages: the list, one benchmark's protocol and leaderboard, the bundle download."""

from __future__ import annotations

from dataclasses import dataclass
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from benchmarks.bundles import BundleUnavailable, bundle_name, bundle_path, role_counts
from benchmarks.models import Benchmark, ProtocolVersion
from datasets.spec_models import SplitSection
from leaderboards.table import Cell, best_entry, leaderboard_table, sort_metric
from submissions.models import Submission


def split_words(split: SplitSection) -> str:
    """The split section in words: ``stratified, 30% held out for test, seed 0``."""
    params = split.params.model_dump(mode="json", exclude_unset=True)
    words = [split.method]
    fraction = params.pop("test_fraction", None)
    if fraction is not None:
        words.append(f"{float(fraction) * 100:g}% held out for test")
    words += [f"{key.replace('_', ' ')} {value}" for key, value in sorted(params.items())]
    words.append(f"seed {split.seed}")
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
        best = best_entry(benchmark) or (None, None)
        cards.append(BenchmarkCard(benchmark, benchmark.current_version(), *best))
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
    table = leaderboard_table(benchmark, protocol, sort, page)
    spec = protocol.typed_spec if protocol is not None else benchmark.typed_spec
    context = {
        "benchmark": benchmark,
        "protocol": protocol,
        "current": benchmark.current_version(),
        "versions": list(benchmark.versions.all()),
        "spec": spec,
        "split": split_words(spec.split_for(protocol.source if protocol is not None else "synthetic")),
        "metrics": [{**metric.model_dump(), "is_rank": metric.name == spec.leaderboard.rank_by} for metric in spec.metrics],
        "limits": spec.limits,
        "classes": spec.classes,
        "roles": role_counts(slug) if protocol is not None and protocol.is_current else {},
        "task": benchmark.task_words,
        "table": table,
        "sort": sort,
    }
    return render(request, "benchmarks/detail.html", context)


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
