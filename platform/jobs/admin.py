"""Submissions as evaluation jobs in the admin: status, attempts, worker; cancel, requeue, and the result inline."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from jobs.queueing import queue_evaluation
from results.models import Result
from submissions.actions import cancel_submission
from submissions.models import Status, Submission


class ResultInline(admin.StackedInline):
    model = Result
    extra = 0
    can_delete = False
    readonly_fields = ["protocol_hash", "metrics", "ci95", "extractor_name", "extractor_weights_sha256", "comparable"]
    exclude = ["details", "evidence"]  # per-item evidence is for the paired tests (leaderboards.comparisons)


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ["id", "method_name", "benchmark", "owner", "kind", "status", "attempts", "is_public", "created"]
    list_filter = ["benchmark", "status", "kind", "is_baseline", "is_public"]
    search_fields = ["method_name", "owner__username", "image_ref"]
    readonly_fields = [
        "status", "status_reason", "log_tail", "image_digest", "started_at", "finished_at",
        "heartbeat_at", "attempts", "celery_task_id", "worker", "created",
    ]
    inlines = [ResultInline]
    actions = ["cancel", "requeue"]

    @admin.action(description="Cancel the selected submissions")
    def cancel(self, request: HttpRequest, queryset: QuerySet[Submission]) -> None:
        count = sum(cancel_submission(submission, reason="cancelled by an administrator") for submission in queryset)
        self.message_user(request, f"cancelled {count} submissions", messages.SUCCESS)

    @admin.action(description="Evaluate the selected submissions again")
    def requeue(self, request: HttpRequest, queryset: QuerySet[Submission]) -> None:
        count = 0
        for submission in queryset.exclude(status__in=[Status.RUNNING, Status.SCORING]):
            Result.objects.filter(submission=submission).delete()
            Submission.objects.filter(pk=submission.pk).update(
                status=Status.QUEUED, status_reason="queued again by an administrator", attempts=0, finished_at=None
            )
            queue_evaluation(submission.pk)
            count += 1
        self.message_user(request, f"queued {count} submissions again", messages.SUCCESS)
