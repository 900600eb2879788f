"""``/api/benchmarks/<slug>/phases/``: a benchmark's competition phases, and the hosts' actions on one.

``GET .../phases/`` lists the phases with their dates (UTC), state and
settings, for anyone. ``POST .../phases/<phase>/`` with ``{"action": "open" |
"close" | "extend" | "reveal"}`` (``extend`` also takes ``closes``) runs one
host action (``benchmarks.phases``); it is refused with one line, and
nothing changes, for anyone but the benchmark's hosts, for an action that
cannot apply, and for a phase the benchmark does not have.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import Refused, named_field
from api.views import TOKEN_OR_SESSION
from benchmarks.models import Benchmark, Phase
from benchmarks.phases import ACTIONS, PhaseRefused, apply_action
from organisers.hosts import is_host


class PhaseSerializer(serializers.ModelSerializer):
    state = serializers.SerializerMethodField()
    inputs = serializers.CharField(read_only=True)

    class Meta:
        model = Phase
        fields = ["slug", "title", "split", "inputs", "opens", "closes", "state", "submissions_per_day",
                  "submissions_total", "leaderboard", "entry", "ladder_step", "revealed_at"]

    def get_state(self, phase: Phase) -> str:
        return phase.state(self.context["now"])


class PhaseActionSerializer(serializers.Serializer):
    action = serializers.CharField(help_text=f"one of {', '.join(ACTIONS)}")
    closes = serializers.DateTimeField(required=False, help_text="extend: the new close date (UTC)")


class PhaseList(APIView):
    authentication_classes = TOKEN_OR_SESSION
    permission_classes = [AllowAny]

    @extend_schema(responses=PhaseSerializer(many=True), summary="A benchmark's phases, their dates (UTC) and state")
    def get(self, request: Request, slug: str) -> Response:
        benchmark = get_object_or_404(Benchmark, slug=slug)
        phases = benchmark.phases.select_related("benchmark")
        return Response(PhaseSerializer(phases, many=True, context={"now": timezone.now()}).data)


class PhaseAction(APIView):
    authentication_classes = TOKEN_OR_SESSION
    permission_classes = [IsAuthenticated]

    @extend_schema(request=PhaseActionSerializer, responses=PhaseSerializer,
                   summary="Open, close, extend or reveal a phase (the benchmark's hosts only)")
    def post(self, request: Request, slug: str, phase: str) -> Response:
        benchmark = get_object_or_404(Benchmark, slug=slug)
        if not is_host(request.user, benchmark):
            raise PermissionDenied(f"only the hosts of {benchmark.slug} may open, close, extend or reveal its phases")
        target = benchmark.phases.filter(slug=phase).first()
        if target is None:
            known = ", ".join(benchmark.phases.values_list("slug", flat=True)) or "none"
            raise NotFound(f"{benchmark.slug} has no phase {phase!r} (its phases: {known})")
        body = PhaseActionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        now = timezone.now()
        try:
            apply_action(target, body.validated_data["action"], now, body.validated_data.get("closes"))
        except PhaseRefused as exc:
            raise Refused(str(exc), field=named_field(str(exc), PhaseActionSerializer._declared_fields)) from None
        return Response(PhaseSerializer(target, context={"now": now}).data)


urlpatterns = [
    path("benchmarks/<slug:slug>/phases/", PhaseList.as_view(), name="api-phases"),
    path("benchmarks/<slug:slug>/phases/<slug:phase>/", PhaseAction.as_view(), name="api-phase"),
]
