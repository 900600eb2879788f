"""The hosts' API of a benchmark, and how a team registers for it.

Under ``/api/benchmarks/<slug>/``:

- ``competition/``: GET the registration mode and terms (anyone); PATCH them (hosts);
- ``register/``: POST ``{"accept_terms": true}`` registers the caller's team;
- ``registrations/``: GET every registration (hosts); ``registrations/<id>/`` POST
  ``{"decision": "approve" | "refuse"}`` (hosts);
- ``hosts/``: GET the hosts (anyone), POST ``{"username": ...}`` adds a co-organiser,
  ``hosts/<username>/`` DELETE removes one (the owner only);
- ``entries/``: every submission with its log (hosts);
- ``export.csv`` / ``export.json`` (``?phase=``): every submission with its metrics (hosts);
- ``rescore/``: POST ``{"phase": optional}`` re-scores the entries on the current protocol (hosts).

Anything refused is answered with one line (``{"error", "field"}``, ``api.errors``) and changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, re_path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import Refused, named_field
from api.views import TOKEN_OR_SESSION
from benchmarks.models import Benchmark, Phase
from hostdesk.entries import benchmark_submissions, host_record, records_csv
from hostdesk.rescore import rescore
from organisers.hosts import OrganiserRefused, add_co_organiser, is_host, is_owner, remove_co_organiser
from organisers.models import BenchmarkHost, Competition, Registration
from organisers.registration import competition_of, decide, register
from teams.services import team_of


class CompetitionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Competition
        fields = ["registration", "terms", "terms_version", "updated"]
        read_only_fields = ["terms_version", "updated"]


class RegistrationSerializer(serializers.ModelSerializer):
    team = serializers.CharField(source="team.name", read_only=True)

    class Meta:
        model = Registration
        fields = ["id", "team", "state", "terms_version", "created", "decided"]


class HostSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = BenchmarkHost
        fields = ["username", "role", "added"]


class RegisterBody(serializers.Serializer):
    accept_terms = serializers.BooleanField(default=False)


class DecisionBody(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["approve", "refuse"])


class UsernameBody(serializers.Serializer):
    username = serializers.CharField()


class RescoreBody(serializers.Serializer):
    phase = serializers.SlugField(required=False)


def hosted(request: Request, slug: str, doing: str) -> Benchmark:
    """The benchmark, when the caller hosts it; else a one-line 403."""
    benchmark = get_object_or_404(Benchmark, slug=slug)
    if not is_host(request.user, benchmark):
        raise PermissionDenied(f"only the hosts of {benchmark.slug} may {doing}")
    return benchmark


def valid(body: serializers.Serializer) -> dict[str, Any]:
    """The body's data, or a one-line 400 naming the first bad field (``api.errors``)."""
    body.is_valid(raise_exception=True)
    return body.validated_data


def refused(exc: OrganiserRefused) -> Refused:
    """A 400 naming the body's field the refusal starts with, if any (``accept_terms: ...``)."""
    fields = {*RegisterBody._declared_fields, *DecisionBody._declared_fields, *UsernameBody._declared_fields,
              *RescoreBody._declared_fields, *CompetitionSerializer.Meta.fields}
    return Refused(str(exc), field=named_field(str(exc), fields))


def phase_of(benchmark: Benchmark, slug: str | None) -> Phase | None:
    if not slug:
        return None
    phase = benchmark.phases.filter(slug=slug).first()
    if phase is None:
        known = ", ".join(benchmark.phases.values_list("slug", flat=True)) or "none"
        raise Refused(f"phase: {benchmark.slug} has no phase {slug!r} (its phases: {known})",
                      status.HTTP_404_NOT_FOUND, field="phase")
    return phase


class CompetitionView(APIView):
    authentication_classes = TOKEN_OR_SESSION
    permission_classes = [AllowAny]

    @extend_schema(responses=CompetitionSerializer, summary="A benchmark's registration rule and terms")
    def get(self, request: Request, slug: str) -> Response:
        return Response(CompetitionSerializer(competition_of(get_object_or_404(Benchmark, slug=slug))).data)

    @extend_schema(request=CompetitionSerializer, responses=CompetitionSerializer, summary="Change the registration rule or the terms (hosts)")
    def patch(self, request: Request, slug: str) -> Response:
        benchmark = hosted(request, slug, "change its registration and terms")
        body = CompetitionSerializer(competition_of(benchmark), data=request.data, partial=True)
        valid(body)
        return Response(CompetitionSerializer(body.save()).data)


class RegisterView(APIView):
    authentication_classes = TOKEN_OR_SESSION
    permission_classes = [IsAuthenticated]

    @extend_schema(request=RegisterBody, responses=RegistrationSerializer, summary="Register the caller's team, accepting the terms")
    def post(self, request: Request, slug: str) -> Response:
        benchmark = get_object_or_404(Benchmark, slug=slug)
        accept = valid(RegisterBody(data=request.data))["accept_terms"]
        try:
            registration = register(request.user, team_of(request.user), benchmark, accept)
        except OrganiserRefused as exc:
            raise refused(exc) from None
        return Response(RegistrationSerializer(registration).data, status=status.HTTP_201_CREATED)


class RegistrationList(APIView):
    authentication_classes = TOKEN_OR_SESSION
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=RegistrationSerializer(many=True), summary="Every registration of a benchmark (hosts)")
    def get(self, request: Request, slug: str) -> Response:
        benchmark = hosted(request, slug, "see its registrations")
        registrations = benchmark.registrations.select_related("team")
        return Response(RegistrationSerializer(registrations, many=True).data)


class RegistrationDecision(APIView):
    authentication_classes = TOKEN_OR_SESSION
    permission_classes = [IsAuthenticated]

    @extend_schema(request=DecisionBody, responses=RegistrationSerializer, summary="Approve or refuse a registration (hosts)")
    def post(self, request: Request, slug: str, pk: int) -> Response:
        benchmark = hosted(request, slug, "approve or refuse registrations")
        registration = benchmark.registrations.filter(pk=pk).first()
        if registration is None:
            raise NotFound(f"{benchmark.slug} has no registration #{pk}")
        approve = valid(DecisionBody(data=request.data))["decision"] == "approve"
        return Response(RegistrationSerializer(decide(request.user, registration, approve)).data)


class HostList(APIView):
    authentication_classes = TOKEN_OR_SESSION
    permission_classes = [AllowAny]

    @extend_schema(responses=HostSerializer(many=True), summary="A benchmark's owner and co-organisers")
    def get(self, request: Request, slug: str) -> Response:
        benchmark = get_object_or_404(Benchmark, slug=slug)
        return Response(HostSerializer(benchmark.hosts.select_related("user"), many=True).data)

    @extend_schema(request=UsernameBody, responses=HostSerializer, summary="Add a co-organiser (the owner)")
    def post(self, request: Request, slug: str) -> Response:
        benchmark = owned(request, slug)
        username = valid(UsernameBody(data=request.data))["username"]
        try:
            host = add_co_organiser(request.user, benchmark, user_named(username))
        except OrganiserRefused as exc:
            raise refused(exc) from None
        return Response(HostSerializer(host).data, status=status.HTTP_201_CREATED)


class HostDetail(APIView):
    authentication_classes = TOKEN_OR_SESSION
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None}, summary="Remove a co-organiser (the owner)")
    def delete(self, request: Request, slug: str, username: str) -> Response:
        benchmark = owned(request, slug)
        try:
            remove_co_organiser(request.user, benchmark, user_named(username))
        except OrganiserRefused as exc:
            raise refused(exc) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


def user_named(username: str) -> Any:
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise Refused(f"username: no user is named {username!r}", status.HTTP_404_NOT_FOUND, field="username")
    return user


def owned(request: Request, slug: str) -> Benchmark:
    """The benchmark, when the caller owns it (or is staff); else a one-line 403."""
    benchmark = get_object_or_404(Benchmark, slug=slug)
    if not is_owner(request.user, benchmark):
        raise PermissionDenied(f"only the owner of {benchmark.slug} may add or remove co-organisers")
    return benchmark


class EntryList(APIView):
    authentication_classes = TOKEN_OR_SESSION
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=OpenApiTypes.OBJECT, summary="Every submission of a benchmark or phase with its log (hosts)")
    def get(self, request: Request, slug: str) -> Response:
        benchmark = hosted(request, slug, "see all its submissions")
        phase = phase_of(benchmark, request.query_params.get("phase"))
        entries = [{**host_record(s), "log_tail": s.log_tail} for s in benchmark_submissions(benchmark, phase)]
        return Response(entries)


class Export(APIView):
    authentication_classes = TOKEN_OR_SESSION
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={(200, "application/json"): OpenApiTypes.OBJECT, (200, "text/csv"): OpenApiTypes.STR}, summary="Every submission as CSV or JSON (hosts)")
    def get(self, request: Request, slug: str, extension: str) -> HttpResponse:
        benchmark = hosted(request, slug, "export its submissions")
        phase = phase_of(benchmark, request.query_params.get("phase"))
        records = [host_record(s) for s in benchmark_submissions(benchmark, phase)]
        name = f"{benchmark.slug}-{phase.slug if phase else 'all'}-submissions.{extension}"
        if extension == "json":
            response: HttpResponse = Response(records)
        else:
            metrics = [metric.name for metric in benchmark.typed_spec.metrics]
            response = HttpResponse(records_csv(records, metrics), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class RescoreView(APIView):
    authentication_classes = TOKEN_OR_SESSION
    permission_classes = [IsAuthenticated]

    @extend_schema(request=RescoreBody, responses={202: OpenApiTypes.OBJECT}, summary="Re-score every entry on the current protocol version (hosts)")
    def post(self, request: Request, slug: str) -> Response:
        benchmark = hosted(request, slug, "re-score its entries")
        phase = phase_of(benchmark, valid(RescoreBody(data=request.data)).get("phase"))
        try:
            done = rescore(benchmark, request.user, phase)
        except OrganiserRefused as exc:
            raise refused(exc) from None
        pairs = [{"original": r.original_id, "rescored": r.rescored_id} for r in done]
        return Response({"protocol_version": done[0].protocol.version, "rescored": pairs},
                        status=status.HTTP_202_ACCEPTED)


urlpatterns = [
    path("benchmarks/<slug:slug>/competition/", CompetitionView.as_view(), name="api-competition"),
    path("benchmarks/<slug:slug>/register/", RegisterView.as_view(), name="api-register"),
    path("benchmarks/<slug:slug>/registrations/", RegistrationList.as_view(), name="api-registrations"),
    path("benchmarks/<slug:slug>/registrations/<int:pk>/", RegistrationDecision.as_view(),
         name="api-registration"),
    path("benchmarks/<slug:slug>/hosts/", HostList.as_view(), name="api-hosts"),
    path("benchmarks/<slug:slug>/hosts/<str:username>/", HostDetail.as_view(), name="api-host"),
    path("benchmarks/<slug:slug>/entries/", EntryList.as_view(), name="api-entries"),
    re_path(r"^benchmarks/(?P<slug>[-\w]+)/export\.(?P<extension>csv|json)$", Export.as_view(), name="api-export"),
    path("benchmarks/<slug:slug>/rescore/", RescoreView.as_view(), name="api-rescore"),
]
