"""A request-size cap on every route, checked before anything reads the body.

Django spools multipart file parts of any size to temporary files, whatever
the view does with them; so a body larger than ``TOONBENCH_MAX_REQUEST_BYTES``
is refused with 413 from its ``Content-Length`` alone, before a byte of it is
read. The upload routes (``TOONBENCH_UPLOAD_URL_NAMES``) are let through:
they cap their own uploads (``uploads.size_cap``, the chunked uploads).
A body sent without ``Content-Length`` (chunked transfer encoding) is
refused with 411 on every route: Django would read none of it anyway, and a
clear answer beats a silently empty form.
"""

from __future__ import annotations

from typing import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from toonbench_site.errors import error_response

MEGABYTE = 1024 * 1024


class RequestSizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refusal = body_refusal(request)
        if refusal is not None:
            return refusal
        return self.get_response(request)


def body_refusal(request: HttpRequest) -> HttpResponse | None:
    """The 411/413 answer for a request whose body is not acceptable on its route; None when fine."""
    announced = request.META.get("CONTENT_LENGTH") or ""
    if not announced:
        if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            return error_response(request, 411, "send the request body with a Content-Length header")
        return None
    try:
        length = int(announced)
    except ValueError:
        return error_response(request, 400, f"Content-Length {announced[:40]!r} is not a number of bytes")
    if length < 0:
        return error_response(request, 400, f"Content-Length {length} is negative")
    limit = settings.TOONBENCH_MAX_REQUEST_BYTES
    if length <= limit or is_upload_route(request):
        return None
    return error_response(
        request, 413,
        f"the request body is {length / MEGABYTE:.1f} MB, over this page's limit of {limit / MEGABYTE:g} MB",
    )


def is_upload_route(request: HttpRequest) -> bool:
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    return match.url_name in settings.TOONBENCH_UPLOAD_URL_NAMES
