"""The REST API: benchmarks, protocol bundles, leaderboards (JSON and CSV), submissions.

Authentication: a session (the browsable pages) or ``Authorization: Token <key>``
(the ``toonbench`` command). Reading benchmarks and leaderboards needs no account.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import NotFound, Throttled
from rest_framework.permissions import AllowAny, IsAuthenticated
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
from api.permissions import CanManageSubmission
from api.serializers import BenchmarkSerializer, SubmissionCreateSerializer, SubmissionSerializer
from benchmarks.models import Benchmark
from benchmarks.views import bundle_response, selected_protocol
from leaderboards.table import leaderboard_table, row_record, rows_csv, table_csv
from submissions import access, actions
from submissions.actions import NotInTeam
from submissions.models import Submission
from submissions.quota import QuotaExceeded
from submissions.services import RetryLater, SubmissionRefused, create_submission
from uploads.size_cap import install_size_cap, refusal_status


# Token first, so an unauthenticated call answers 401 with ``WWW-Authenticate: Token``.
TOKEN_OR_SESSION = [TokenAuthentication, SessionAuthentication]


class CSVRenderer(BaseRenderer):
    """CSV bodies: a table already written by ``table_csv``, or any other answer (an error) as key,value rows.

    Either way every text cell that a spreadsheet would run as a formula is neutralised.
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if isinstance(data, str):
            return data.encode()
        rows = data.items() if isinstance(data, dict) else [[item] for item in data or []]
        return rows_csv([[str(cell) for cell in row] for row in rows]).encode()


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
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
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
    (its entry under the benchmark's entry rule) and one per baseline, or with ``view=all`` every submission."""

    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter("sort", str, description="metric to sort by (default: the spec's rank_by)"),
            OpenApiParameter("version", str, description="protocol hash prefix (default: current)"),
            OpenApiParameter("view", str, enum=["teams", "all"],
                             description="teams (default): one row per team by the entry rule; all: every submission"),
            OpenApiParameter("phase", str, description="competition phase (default: the open or latest one)"),
            OpenApiParameter("format", str, enum=["json", "csv"]),
        ],
        responses={200: OpenApiTypes.OBJECT, (200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request: Request, slug: str) -> Response:
        benchmark = get_object_or_404(Benchmark.objects.visible(), slug=slug)
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


class SubmissionListCreate(generics.ListCreateAPIView):
    """Your submissions (newest first); POST a multipart form to submit."""

    authentication_classes = TOKEN_OR_SESSION

    permission_classes = [IsAuthenticated]
    serializer_class = SubmissionSerializer

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Cap the upload before authentication reads the body (CSRF checks read form data).
        self.upload_refusal = install_size_cap(request._request) if request.method == "POST" else ""
        super().initial(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Submission]:
        return (
            Submission.objects.filter(owner=self.request.user)
            .select_related("benchmark", "protocol", "owner", "result")
            .order_by("-created")
        )

    @extend_schema(request={"multipart/form-data": SubmissionCreateSerializer}, responses={201: SubmissionSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if self.upload_refusal:
            return Response({"error": self.upload_refusal}, status=refusal_status(request._request))
        serializer = SubmissionCreateSerializer(data=request.data)
        too_large = getattr(request._request, "upload_rejected", "")
        if too_large:
            return Response({"error": too_large}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            submission = create_submission(
                request.user, data["benchmark"], data["kind"], data["method_name"], artefact=data["artefact"],
                image_ref=data["image_ref"], description=data["description"], paper_url=data["paper_url"],
                code_url=data["code_url"], is_public=data["is_public"], phase=data["phase"],
            )
        except QuotaExceeded as exc:
            retry = {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, RetryLater) else None
            return Response({"error": str(exc)}, status=status.HTTP_429_TOO_MANY_REQUESTS, headers=retry)
        except SubmissionRefused as exc:
            return Response({"error": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        return Response(SubmissionSerializer(submission, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)


class SubmissionDetail(generics.RetrieveAPIView):
    """One submission; private ones answer 404 to everyone but their owner and staff."""

    authentication_classes = TOKEN_OR_SESSION

    permission_classes = [AllowAny]
    serializer_class = SubmissionSerializer
    queryset = Submission.objects.select_related("benchmark", "protocol", "owner", "result")

    def get_object(self) -> Submission:
        submission = super().get_object()
        if not access.can_view(self.request.user, submission):
            raise NotFound("no such submission")
        return submission


class SubmissionCancel(generics.GenericAPIView):
    authentication_classes = TOKEN_OR_SESSION
    permission_classes = [IsAuthenticated, CanManageSubmission]
    serializer_class = SubmissionSerializer
    queryset = Submission.objects.select_related("benchmark", "protocol", "owner")

    def get_object(self) -> Submission:
        submission = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        if not access.can_view(self.request.user, submission):
            raise NotFound("no such submission")
        self.check_object_permissions(self.request, submission)
        return submission

    @extend_schema(request=None, responses={200: SubmissionSerializer, 409: OpenApiResponse(description="already ended")})
    def post(self, request: Request, pk: int) -> Response:
        submission = self.get_object()
        cancelled = actions.cancel(submission, by_staff=submission.owner_id != request.user.pk)
        body = SubmissionSerializer(submission, context={"request": request}).data
        return Response(body, status=status.HTTP_200_OK if cancelled else status.HTTP_409_CONFLICT)


class SubmissionEntry(generics.GenericAPIView):
    """POST: make the submission its team's chosen entry on its benchmark and protocol; DELETE: unmark it.

    Any member of the submission's team may; others get 403 with one line.
    """

    authentication_classes = TOKEN_OR_SESSION
    permission_classes = [IsAuthenticated]
    serializer_class = SubmissionSerializer
    queryset = Submission.objects.select_related("benchmark", "protocol", "owner", "team", "result")

    def get_object(self) -> Submission:
        submission = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        if not access.can_view(self.request.user, submission):
            raise NotFound("no such submission")
        return submission

    @extend_schema(request=None, responses={200: SubmissionSerializer, 400: OpenApiResponse(description="refused"),
                                            403: OpenApiResponse(description="not a member of the team")})
    def post(self, request: Request, pk: int) -> Response:
        return self._choose(request, chosen=True)

    @extend_schema(request=None, responses={200: SubmissionSerializer, 403: OpenApiResponse(description="not a member")})
    def delete(self, request: Request, pk: int) -> Response:
        return self._choose(request, chosen=False)

    def _choose(self, request: Request, chosen: bool) -> Response:
        submission = self.get_object()
        try:
            actions.choose_entry(submission, request.user, chosen)
        except NotInTeam as exc:
            return Response({"error": str(exc)}, status=status.HTTP_403_FORBIDDEN)
        except SubmissionRefused as exc:
            return Response({"error": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        return Response(SubmissionSerializer(submission, context={"request": request}).data)
