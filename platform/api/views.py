"""The REST API: tokens, benchmarks, protocol bundles, leaderboards (JSON and CSV); submissions in ``api.submissions``.

Authentication: a session (the browsable pages) or ``Authorization: Token <key>``
(the ``toonbench`` command). Reading benchmarks and leaderboards needs no account.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date, quote_etag
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import NotFound, Throttled, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.throttle import (
    SignInRateThrottle,
    clear_sign_in_failures,
    failed_sign_in_wait,
    record_sign_in_failure,
    wait_message,
)
from api import freshness
from api.errors import Refused
from api.serializers import BenchmarkSerializer, ErrorSerializer
from benchmarks.models import Benchmark
from benchmarks.views import bundle_response, selected_protocol
from leaderboards.queries import VIEWS, leaderboard_metrics
from leaderboards.table import leaderboard_table, row_record, table_csv

BOARD_PARAMETERS = ("sort", "version", "view", "phase", "format")

# Token first, so an unauthenticated call answers 401 with ``WWW-Authenticate: Token``.
TOKEN_OR_SESSION = [TokenAuthentication, SessionAuthentication]


class CSVRenderer(BaseRenderer):
    """CSV bodies: a table already written by ``table_csv`` (every formula-like cell neutralised).

    Errors are never CSV: ``api.errors`` renders them as JSON.
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return data.encode() if isinstance(data, str) else b""


class TokenView(ObtainAuthToken):
    """Exchange a username and password for the user's API token (created on first use).

    Throttled: requests per address at the ``auth`` rate, and failed attempts per
    (address, username) pair and per address (accounts/throttle.py); past either, that
    address gets 429 with Retry-After, never another address's sign-in.
    """

    renderer_classes = [JSONRenderer]
    throttle_classes = [SignInRateThrottle]

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        username = str(request.data.get("username", ""))
        wait_s = failed_sign_in_wait(request, username)
        if wait_s:
            raise Throttled(wait=wait_s, detail=wait_message(wait_s))
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            record_sign_in_failure(request, username)
            raise ValidationError(serializer.errors)
        user = serializer.validated_data["user"]
        clear_sign_in_failures(request, user.get_username())
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class BenchmarkList(generics.ListAPIView):
    serializer_class = BenchmarkSerializer
    pagination_class = None
    permission_classes = [AllowAny]

    def get_queryset(self) -> QuerySet[Benchmark]:
        return Benchmark.objects.filter(is_active=True)


class BenchmarkDetail(generics.RetrieveAPIView):
    serializer_class = BenchmarkSerializer
    permission_classes = [AllowAny]
    lookup_field = "slug"
    queryset = Benchmark.objects.visible()


class BundleDownload(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY}, summary="Download the protocol bundle")
    def get(self, request: Request, slug: str) -> HttpResponse:
        benchmark = get_object_or_404(Benchmark.objects.visible(), slug=slug)
        protocol = benchmark.current_version()
        if protocol is None:
            raise NotFound(f"{slug} has no built protocol yet")
        return bundle_response(protocol)


class Leaderboard(APIView):
    """Ranked public results of one protocol version, every metric with its 95% interval: one row per team
    (its entry under the benchmark's entry rule) and one per baseline, or with ``view=all`` every submission.

    Carries ``ETag`` and ``Last-Modified`` and answers 304 to a matching ``If-None-Match`` or
    ``If-Modified-Since`` (``api.freshness``). An unknown query parameter, sort metric or view is a 400.
    """

    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter("sort", str, description="metric to sort by (default: the spec's rank_by); "
                                                      "an unknown one is a 400 that lists them"),
            OpenApiParameter("version", str, description="protocol hash prefix (default: current)"),
            OpenApiParameter("view", str, enum=list(VIEWS),
                             description="teams (default): one row per team by the entry rule; all: every submission"),
            OpenApiParameter("phase", str, description="competition phase (default: the open or latest one)"),
            OpenApiParameter("format", str, enum=["json", "csv"]),
            OpenApiParameter("If-None-Match", str, OpenApiParameter.HEADER, description="an ETag seen before"),
            OpenApiParameter("If-Modified-Since", str, OpenApiParameter.HEADER,
                             description="a Last-Modified seen before"),
        ],
        responses={200: OpenApiTypes.OBJECT, (200, "text/csv"): OpenApiTypes.STR,
                   304: OpenApiResponse(description="not modified since the ETag or date sent"),
                   400: OpenApiResponse(response=ErrorSerializer, description="unknown parameter, sort or view")},
    )
    def get(self, request: Request, slug: str) -> HttpResponseBase:
        benchmark = get_object_or_404(Benchmark.objects.visible(), slug=slug)
        check_board_query(benchmark, request)
        now = timezone.now()
        digest = freshness.content_digest(benchmark, now)
        etag, modified = freshness.entity_tag(request, digest), freshness.changed_at(benchmark.slug, digest, now)
        response = get_conditional_response(request._request, etag=quote_etag(etag),
                                            last_modified=int(modified.timestamp()))
        if response is None:
            response = board_response(benchmark, request)
        response["ETag"] = quote_etag(etag)
        response["Last-Modified"] = http_date(modified.timestamp())
        patch_vary_headers(response, ["Accept", "Authorization", "Cookie"])
        return response


def check_board_query(benchmark: Benchmark, request: Request) -> None:
    """400 naming the first query parameter the leaderboard does not take, or a sort or view it does not know."""
    for name in request.query_params:
        if name not in BOARD_PARAMETERS:
            raise Refused(f"unknown parameter {name!r}; expected one of: {', '.join(BOARD_PARAMETERS)}", field=name)
    sort, metrics = request.query_params.get("sort"), leaderboard_metrics(benchmark)
    if sort is not None and sort not in metrics:
        raise Refused(f"unknown sort {sort!r}; expected one of the leaderboard metrics: {', '.join(metrics)}",
                      field="sort")
    view = request.query_params.get("view")
    if view is not None and view not in VIEWS:
        raise Refused(f"unknown view {view!r}; expected one of: {', '.join(VIEWS)}", field="view")


def board_response(benchmark: Benchmark, request: Request) -> Response:
    """The leaderboard as JSON, or as CSV when asked for."""
    protocol = selected_protocol(benchmark, request.query_params.get("version", ""))
    table = leaderboard_table(benchmark, protocol, request.query_params.get("sort"), page_size=None,
                              view=request.query_params.get("view"), phase=request.query_params.get("phase"),
                              viewer=request.user)
    if request.accepted_renderer.format == "csv":
        return Response(table_csv(table), content_type="text/csv; charset=utf-8")
    return Response({
        "benchmark": benchmark.slug,
        "protocol_hash": protocol.protocol_hash if protocol else None,
        "view": table.view,
        "entry_rule": table.rule.value,
        "phase": table.phase.slug if table.phase is not None else None,
        "hidden": table.hidden,
        "sort": table.sort,
        "columns": [{"name": c.name, "higher_is_better": c.higher_is_better} for c in table.columns],
        "rows": [row_record(row, table.columns) for row in table.rows],
    })
