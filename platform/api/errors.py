"""One error shape for the whole API: ``{"error": "<one line>", "field": "<field name>" | null}``.

``one_line_errors`` is the API's one DRF exception handler
(``REST_FRAMEWORK["EXCEPTION_HANDLER"]``). Every refusal a view raises (a DRF
exception, Django's ``Http404`` and ``PermissionDenied``, or ``Refused`` for
statuses DRF has no exception for) comes out in that shape with its status
and headers (``Retry-After``, ``WWW-Authenticate``, ``Upload-Offset``).
Validation errors name the first field that failed and its first message;
an error is always JSON, even where the request asked for CSV. An exception
no view expected is left to Django, which logs it and answers with the
site's 500 handler (``toonbench_site.errors``) in the same shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler

NON_FIELD_KEYS = frozenset({"detail", "non_field_errors", "__all__"})
DJANGO_NOT_FOUND = re.compile(r"^No (\w+) matches the given query\.$")


class Refused(APIException):
    """A refusal with any status, an optional field and extra headers (413, 409, 411, 507 ...)."""

    def __init__(self, message: str, status_code: int = status.HTTP_400_BAD_REQUEST, field: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.field = field
        self.headers = headers or {}


def error_body(message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": message, "field": field}


def first_problem(detail: Any, field: str | None = None) -> tuple[str, str | None]:
    """The first message in a DRF error detail (a string, list or dict, nested), and the field it is about.

    A field's message is prefixed with the field's name unless it already
    starts with it, so the line alone says what to fix.
    """
    if isinstance(detail, dict):
        if not detail:
            return "the request was refused", field
        key, value = next(iter(detail.items()))
        named = field if key in NON_FIELD_KEYS else (f"{field}.{key}" if field else str(key))
        return first_problem(value, named)
    if isinstance(detail, (list, tuple)):
        return first_problem(detail[0], field) if detail else ("the request was refused", field)
    message = " ".join(str(detail).split())
    if field and not message.startswith(f"{field}:"):
        message = f"{field}: {message}"
    return message, field


def named_field(message: str, fields: Iterable[str]) -> str | None:
    """The field a one-line refusal starts with (``phase: ...``), when it is one of ``fields``."""
    name, colon, _ = message.partition(":")
    return name if colon and name in fields else None


def readable_not_found(message: str) -> str:
    """Django's ``No Submission matches the given query.`` said as ``no such submission``."""
    match = DJANGO_NOT_FOUND.match(message)
    return f"no such {match.group(1).lower()}" if match else message


def one_line_errors(exc: Exception, context: dict[str, Any]) -> Response | None:
    """The API's exception handler: every error in the one shape (module docstring)."""
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, Refused):
        response.data = error_body(str(exc.detail), exc.field)
        for name, value in exc.headers.items():
            response[name] = value
    else:
        message, field = first_problem(response.data)
        if response.status_code == status.HTTP_404_NOT_FOUND:
            message = readable_not_found(message)
        response.data = error_body(message, field)
    always_json(context)
    return response


def always_json(context: dict[str, Any]) -> None:
    """Render the error as JSON whatever the request negotiated (a CSV leaderboard's error included)."""
    request = context.get("request")
    if request is not None:
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type

