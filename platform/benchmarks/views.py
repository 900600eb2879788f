"""The protocol bundle download, and how a page or API call names a benchmark's protocol version.

The home page and a benchmark's page show leaderboards, so they are the ``leaderboards`` app's
(``leaderboards.views``).
"""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from benchmarks.bundles import BundleUnavailable, bundle_name, bundle_path
from benchmarks.models import Benchmark, ProtocolVersion


def selected_protocol(benchmark: Benchmark, requested: str) -> ProtocolVersion | None:
    """The protocol named by a hash prefix (``?version=``), else the current one."""
    if requested:
        protocol = benchmark.versions.filter(protocol_hash__startswith=requested[:64]).first()
        if protocol is None:
            raise Http404(f"{benchmark.slug} has no protocol version {requested!r}")
        return protocol
    return benchmark.current_version()


def bundle_download(request: HttpRequest, slug: str) -> HttpResponse:
    benchmark = get_object_or_404(Benchmark.objects.visible(), slug=slug)
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
