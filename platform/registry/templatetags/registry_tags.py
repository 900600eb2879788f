"""``{% push_commands %}``: the exact commands that push an image to the platform registry for this user."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from registry.tokens import namespace_for

register = template.Library()


@register.inclusion_tag("registry/push_commands.html", takes_context=True)
def push_commands(context: dict[str, Any], benchmark: str = "toonnet") -> dict[str, Any]:
    user = context["request"].user
    username = user.get_username() if user.is_authenticated else ""
    return {
        "address": settings.TOONBENCH_REGISTRY_ADDR,
        "username": username or "USERNAME",
        "namespace": (namespace_for(username) if username else None) or "USERNAME",
        "benchmark": benchmark,
    }
