"""Error pages that never show settings, tracebacks or the URL patterns tried.

One sentence per status; API routes (and clients that ask for JSON) get
``{"error": ..., "field": null}``, the API's one error shape, instead of a page. The template is rendered without the
request's context processors, so an error page cannot itself fail on a
broken session or database.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

TITLES = {
    400: "Bad request",
    403: "Forbidden",
    404: "Not found",
    411: "Length required",
    413: "Request too large",
    429: "Too many requests",
    500: "Server error",
}
DEFAULT_MESSAGES = {
    400: "the request could not be understood",
    403: "you may not do this",
    404: "there is no such page",
    500: "something went wrong on the server; the error was logged",
}


def wants_json(request: HttpRequest) -> bool:
    accept = request.META.get("HTTP_ACCEPT", "")
    return request.path_info.startswith("/api/") or ("json" in accept and "html" not in accept)


def error_response(request: HttpRequest, status: int, message: str = "") -> HttpResponse:
    """The one-line answer for ``status``: JSON for API clients, a small page otherwise."""
    message = message or DEFAULT_MESSAGES.get(status, TITLES.get(status, "error"))
    if wants_json(request):
        return JsonResponse({"error": message, "field": None}, status=status)
    page = render_to_string("error.html", {"status": status, "title": TITLES.get(status, "Error"), "message": message})
    return HttpResponse(page, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return error_response(request, 400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return error_response(request, 403)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return error_response(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return error_response(request, 500)
