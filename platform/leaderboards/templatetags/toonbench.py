"""Template filters for numbers with intervals and metric directions."""

from __future__ import annotations

import math
from typing import Any

from django import template
from django.utils.http import urlencode

register = template.Library()


@register.filter
def metric(value: Any) -> str:
    """A metric value to three decimals below 10, two above (FID is in the tens or hundreds)."""
    if value is None:
        return "—"
    number = float(value)
    if not math.isfinite(number):
        return "—"
    return f"{number:.3f}" if abs(number) < 10 else f"{number:.2f}"


@register.filter
def interval(bounds: Any) -> str:
    """``[low, high]`` formatted like the value; empty when unknown."""
    if not bounds or len(bounds) != 2 or bounds[0] is None or bounds[1] is None:
        return ""
    return f"[{metric(bounds[0])}, {metric(bounds[1])}]"


@register.filter
def arrow(higher_is_better: bool) -> str:
    return "↑" if higher_is_better else "↓"


@register.simple_tag(takes_context=True)
def query(context: dict[str, Any], **changes: Any) -> str:
    """The current query string with some parameters changed (``None`` drops one)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + urlencode(sorted(params.items())) if params else "?"


@register.filter
def rank_arrow(benchmark: Any) -> str:
    """The arrow of the benchmark's ranking metric, with its meaning."""
    higher = benchmark.higher_is_better(benchmark.rank_by)
    return "↑ higher is better" if higher else "↓ lower is better"

