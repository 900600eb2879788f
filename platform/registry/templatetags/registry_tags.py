"""``{% push_commands %}``: the exact commands that push an image to the platform registry for this user."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from registry.namespaces import own_namespace, team_namespace

register = template.Library()


@register.inclusion_tag("registry/push_commands.html", takes_context=True)
def push_commands(context: dict[str, Any], benchmark: str = "toonnet") -> dict[str, Any]:
    user = context["request"].user
    signed_in = user.is_authenticated
    return {
        "address": settings.TOONBENCH_REGISTRY_ADDR,
        "username": user.get_username() if signed_in else "USERNAME",
        "namespace": (own_namespace(user) if signed_in else None) or "USERNAME",
        "team_namespace": team_namespace(user) if signed_in else None,
        "benchmark": benchmark,
    }
