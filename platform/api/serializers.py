"""API representations of benchmarks, protocol versions, submissions and results."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from benchmarks.models import Benchmark, ProtocolVersion
from results import disclosure
from results.models import Result
from submissions import access
from submissions.forms import SUBMIT_KINDS, open_benchmarks
from submissions.inputs import UploadRejected, check_input
from submissions.models import DESCRIPTION_MAX_CHARS, Status, Submission


class ErrorSerializer(serializers.Serializer):
    """The shape of every API error."""

    error = serializers.CharField(help_text="what was wrong and what was expected, in one line")
    field = serializers.CharField(allow_null=True, help_text="the field or query parameter it is about, or null")


class ProtocolSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProtocolVersion
        fields = ["version", "protocol_hash", "spec_hash", "profile", "source", "train_items", "test_items",
                  "is_current", "created"]


class BenchmarkSerializer(serializers.ModelSerializer):
    metrics = serializers.SerializerMethodField()
    rank_by = serializers.CharField(read_only=True)
    limits = serializers.SerializerMethodField()
    classes = serializers.SerializerMethodField()
    current_protocol = serializers.SerializerMethodField()

    class Meta:
        model = Benchmark
        fields = ["slug", "title", "order", "task", "summary", "metrics", "rank_by", "limits", "classes", "paper_title",
                  "paper_url", "current_protocol"]

    def get_metrics(self, benchmark: Benchmark) -> list[dict[str, Any]]:
        return [
            {"name": m.name, "higher_is_better": m.higher_is_better, "leaderboard": m.leaderboard}
            for m in benchmark.typed_spec.metrics
        ]

    def get_limits(self, benchmark: Benchmark) -> dict[str, Any]:
        return benchmark.typed_spec.limits.model_dump(mode="json")

    def get_classes(self, benchmark: Benchmark) -> list[str]:
        return list(benchmark.typed_spec.classes)

    def get_current_protocol(self, benchmark: Benchmark) -> dict[str, Any] | None:
        protocol = benchmark.current_version()
        return ProtocolSerializer(protocol).data if protocol is not None else None


class ResultSerializer(serializers.ModelSerializer):
    """A result as far as the requesting user may see it (``results.disclosure``): the leaderboard
    metrics and intervals and the aggregate curves for everyone, more for the owner and staff."""

    metrics = serializers.SerializerMethodField()
    ci95 = serializers.SerializerMethodField()
    details = serializers.SerializerMethodField()

    class Meta:
        model = Result
        fields = ["protocol_hash", "metrics", "ci95", "extractor_name", "extractor_weights_sha256", "comparable",
                  "created", "details"]

    def _shown(self, result: Result) -> set[str]:
        return set(disclosure.visible_metric_names(self._user(), result.submission))

    def _user(self) -> Any:
        request = self.context.get("request")
        return getattr(request, "user", None)

    def get_metrics(self, result: Result) -> dict[str, Any]:
        shown = self._shown(result)
        return {name: value for name, value in result.metrics.items() if name in shown}

    def get_ci95(self, result: Result) -> dict[str, Any]:
        shown = self._shown(result)
        return {name: bounds for name, bounds in result.ci95.items() if name in shown}

    def get_details(self, result: Result) -> dict[str, Any]:
        return disclosure.visible_details(self._user(), result.submission, result)


class SubmissionSerializer(serializers.ModelSerializer):
    benchmark = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    protocol_hash = serializers.CharField(source="protocol.protocol_hash", read_only=True)
    owner = serializers.CharField(source="owner.get_username", read_only=True)
    team = serializers.CharField(source="team.name", read_only=True)
    result = serializers.SerializerMethodField()
    log_tail = serializers.SerializerMethodField()

    class Meta:
        model = Submission
        fields = ["id", "benchmark", "protocol_hash", "owner", "team", "kind", "image_ref", "resolved_ref", "method_name",
                  "description", "paper_url", "code_url", "is_public", "is_baseline", "chosen", "status", "status_reason",
                  "created",
                  "started_at", "finished_at", "attempts", "result", "log_tail"]
        read_only_fields = fields

    def get_result(self, submission: Submission) -> dict[str, Any] | None:
        result = getattr(submission, "result", None) if submission.status == Status.FINISHED else None
        return ResultSerializer(result, context=self.context).data if result is not None else None

    def get_log_tail(self, submission: Submission) -> str | None:
        """Only the owner and staff read container output; others get null."""
        request = self.context.get("request")
        if request is not None and access.can_see_logs(request.user, submission):
            return submission.log_tail
        return None


UNKNOWN_BENCHMARK = {"does_not_exist": "expected the slug of an open benchmark (GET /api/v1/benchmarks/ lists them), "
                                       "not {value!r}"}


class SubmissionCreateSerializer(serializers.Serializer):
    benchmark = serializers.SlugRelatedField(slug_field="slug", queryset=Benchmark.objects.none(),
                                             error_messages=UNKNOWN_BENCHMARK)
    kind = serializers.ChoiceField(choices=[kind for kind, _ in SUBMIT_KINDS])
    image_ref = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")
    artefact = serializers.FileField(required=False, allow_null=True, default=None)
    method_name = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, max_length=DESCRIPTION_MAX_CHARS, default="")
    paper_url = serializers.URLField(required=False, allow_blank=True, max_length=500, default="")
    code_url = serializers.URLField(required=False, allow_blank=True, max_length=500, default="")
    is_public = serializers.BooleanField(required=False, default=True)
    phase = serializers.SlugField(required=False, allow_blank=True, max_length=50, default="",
                                  help_text="competition phase to enter (default: the one open now)")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["benchmark"].queryset = open_benchmarks()

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        try:
            data["image_ref"], data["artefact"] = check_input(
                data["kind"], data["benchmark"], data.get("image_ref", ""), data.get("artefact"))
        except UploadRejected as exc:
            raise serializers.ValidationError({exc.field: [str(exc)]}) from None
        return data
