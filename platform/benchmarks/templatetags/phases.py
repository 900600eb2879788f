"""``{% benchmark_phases benchmark %}``: a benchmark's phases with their dates (UTC) and state, for its page."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from benchmarks.models import Benchmark

register = template.Library()


@register.inclusion_tag("benchmarks/_phases.html")
def benchmark_phases(benchmark: Benchmark) -> dict[str, Any]:
    now = timezone.now()
    phases = list(benchmark.phases.select_related("benchmark"))
    return {"rows": [{"phase": phase, "state": phase.state(now)} for phase in phases]}
