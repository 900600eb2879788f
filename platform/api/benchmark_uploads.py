"""``/api/benchmarks/``: the list (anyone) and uploading a benchmark (hosts); an uploaded one's build and publishing.

``POST /api/benchmarks/`` (multipart) takes ``spec`` (the YAML file) and
either ``archive`` (a zip or tar laid out for the spec's adapter) or
``data_folder`` (a folder under the site's data root); it answers 201 with
the benchmark's build state, or one line and nothing changed
(``organisers.hosted``). ``GET .../<slug>/build/`` shows the build state and
message to the benchmark's hosts; ``POST .../<slug>/publish/`` shows a built
benchmark to participants.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import Refused, named_field
from api.views import TOKEN_OR_SESSION, BenchmarkList
from organisers.hosted import HostedRefused, can_create, can_host, create_uploaded, publish
from benchmarks.models import Benchmark


def build_record(benchmark: Benchmark) -> dict[str, object]:
    """What a host sees of an uploaded benchmark's build."""
    return {"slug": benchmark.slug, "origin": benchmark.origin, "build_state": benchmark.build_state,
            "build_message": benchmark.build_message, "published": benchmark.is_active}


UPLOAD_FIELDS = ("spec", "archive", "data_folder")


def refusal(line: str) -> Refused:
    """A 400 in the API's one shape, naming the upload's field the line starts with."""
    return Refused(line, field=named_field(line, UPLOAD_FIELDS))


class BenchmarkListCreate(BenchmarkList):
    authentication_classes = TOKEN_OR_SESSION
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(summary="Upload a benchmark: its spec and its data (hosts)", responses={201: dict})
    def post(self, request: Request) -> Response:
        if not can_create(request.user):
            self.permission_denied(request, message="only the site's staff may upload a benchmark")
        spec = request.FILES.get("spec")
        if spec is None:
            raise refusal("spec: send the benchmark's YAML spec as the file field 'spec'")
        archive = request.FILES.get("archive")
        with tempfile.TemporaryDirectory() as scratch:
            archive_path = None
            if archive is not None:
                archive_path = Path(scratch) / (Path(archive.name).name or "data")
                with open(archive_path, "wb") as sink:
                    for chunk in archive.chunks():
                        sink.write(chunk)
            try:
                benchmark = create_uploaded(request.user, spec.read(), Path(settings.TOONBENCH_DATA_ROOT),
                                            archive=archive_path, data_folder=request.data.get("data_folder", ""))
            except HostedRefused as exc:
                raise refusal(str(exc)) from None
        return Response(build_record(benchmark), status=status.HTTP_201_CREATED)


def hosted_benchmark(request: Request, slug: str) -> Benchmark:
    benchmark = get_object_or_404(Benchmark, slug=slug)
    if not can_host(request.user, benchmark):
        raise PermissionDenied(f"only the hosts of {slug} may see its build or publish it")
    return benchmark


class BenchmarkBuild(APIView):
    authentication_classes = TOKEN_OR_SESSION

    @extend_schema(summary="An uploaded benchmark's build state (hosts)", responses={200: dict})
    def get(self, request: Request, slug: str) -> Response:
        return Response(build_record(hosted_benchmark(request, slug)))


class BenchmarkPublish(APIView):
    authentication_classes = TOKEN_OR_SESSION

    @extend_schema(summary="Show a built uploaded benchmark to participants (hosts)", request=None,
                   responses={200: dict})
    def post(self, request: Request, slug: str) -> Response:
        benchmark = hosted_benchmark(request, slug)
        try:
            publish(benchmark)
        except HostedRefused as exc:
            raise refusal(str(exc)) from None
        return Response(build_record(benchmark))


urlpatterns = [
    path("benchmarks/", BenchmarkListCreate.as_view(), name="api-benchmarks"),
    path("benchmarks/<slug:slug>/build/", BenchmarkBuild.as_view(), name="api-benchmark-build"),
    path("benchmarks/<slug:slug>/publish/", BenchmarkPublish.as_view(), name="api-benchmark-publish"),
]
