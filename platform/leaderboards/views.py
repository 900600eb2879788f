"""Leaderboard exports; the leaderboard itself is shown on the benchmark page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from benchmarks.models import Benchmark
from benchmarks.views import selected_protocol
from leaderboards.table import leaderboard_table, table_csv


def leaderboard_csv(request: HttpRequest, slug: str) -> HttpResponse:
    benchmark = get_object_or_404(Benchmark, slug=slug)
    protocol = selected_protocol(benchmark, request.GET.get("version", ""))
    table = leaderboard_table(benchmark, protocol, request.GET.get("sort"), page_size=None)
    response = HttpResponse(table_csv(table), content_type="text/csv; charset=utf-8")
    version = protocol.short_hash if protocol is not None else "none"
    response["Content-Disposition"] = f'attachment; filename="{slug}-leaderboard-{version}.csv"'
    return response
