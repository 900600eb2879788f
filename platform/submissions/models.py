"""A submission: what the participant sent, and where its one evaluation job stands.

A ``Submission`` is both what was handed in and the state of its job
(status, heartbeat, attempts), which the ``jobs`` app moves on; its result
lives in the ``results`` app. Kinds and statuses are the evaluator's
vocabularies (``evaluator.kinds``, ``evaluator.status``): a new one is one
edit there.
"""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models

from benchmarks.models import Benchmark, Phase, ProtocolVersion
from evaluator import kinds as kind_vocabulary
from evaluator import status as status_vocabulary
from evaluator.kinds import SubmissionKind
from evaluator.status import JobStatus
from teams.models import Team
from teams.services import team_of

Kind = models.TextChoices("Kind", [(kind.name, (kind.value, kind.label)) for kind in SubmissionKind])
PARTICIPANT_KINDS = tuple(Kind(kind.value) for kind in kind_vocabulary.PARTICIPANT_KINDS)
FILE_KINDS = tuple(Kind(kind.value) for kind in SubmissionKind if kind.carries_file)

Status = models.TextChoices("Status", [(status.name, (status.value, status.label)) for status in JobStatus])

ACTIVE_STATUSES = tuple(Status(status.value) for status in status_vocabulary.ACTIVE_STATUSES)
IN_PROGRESS_STATUSES = tuple(Status(status.value) for status in status_vocabulary.IN_PROGRESS_STATUSES)
FINAL_STATUSES = tuple(Status(status.value) for status in status_vocabulary.FINAL_STATUSES)
# Submissions that do not use up the daily quota: the participant got nothing for them.
QUOTA_EXEMPT_STATUSES = (Status.FAILED, Status.CANCELLED)


def artefact_upload_path(submission: "Submission", filename: str) -> str:
    """Artefacts are stored under a random name: never trust the uploaded file name."""
    suffix = "".join(PurePosixPath(filename).suffixes[-2:])[:16]
    return f"artefacts/{submission.benchmark.slug}/{uuid.uuid4().hex}{suffix}"


class SubmissionQuerySet(models.QuerySet["Submission"]):
    def live(self) -> "SubmissionQuerySet":
        """Without the submissions their owners deleted (their rows stay only so quotas stay counted)."""
        return self.filter(deleted_at__isnull=True)


# The longest description a participant may give (form, API create and edit alike).
DESCRIPTION_MAX_CHARS = 5000


class Submission(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submissions")
    team = models.ForeignKey(
        Team, on_delete=models.RESTRICT, related_name="submissions",
        help_text="The team the owner entered as when submitting: quotas and leaderboard rows count per team",
    )
    benchmark = models.ForeignKey(Benchmark, on_delete=models.PROTECT, related_name="submissions")
    phase = models.ForeignKey(
        Phase, null=True, blank=True, on_delete=models.PROTECT, related_name="submissions",
        help_text="The competition phase it entered (empty on a benchmark without phases)",
    )
    protocol = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="submissions")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    image_ref = models.CharField(max_length=300, blank=True, help_text="Registry reference of a container image")
    resolved_ref = models.CharField(
        max_length=400, blank=True,
        help_text="The image reference pinned to its content digest (repo@sha256:...) when submitted: what runs",
    )
    artefact = models.FileField(upload_to=artefact_upload_path, blank=True, max_length=300)
    command = models.JSONField(default=list, blank=True, help_text="Argument list of a bundled baseline command")
    method_name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    paper_url = models.URLField(max_length=500, blank=True)
    code_url = models.URLField(max_length=500, blank=True)
    is_public = models.BooleanField(default=True)
    is_baseline = models.BooleanField(default=False)
    chosen = models.BooleanField(
        default=False,
        help_text="The team's chosen entry on this benchmark, protocol and phase (entry rule 'chosen')",
    )

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    status_reason = models.TextField(blank=True)
    log_tail = models.TextField(blank=True, help_text="Last lines of the container's output (owner only)")
    image_digest = models.CharField(max_length=400, blank=True)
    effective_limits = models.JSONField(
        default=dict, blank=True, help_text="What the run was given: the spec's limits fitted to the worker's host"
    )
    host_info = models.JSONField(default=dict, blank=True, help_text="The worker host: CPUs, memory, GPU model, driver")
    created = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text="How many times a worker started this job")
    celery_task_id = models.CharField(max_length=64, blank=True)
    worker = models.CharField(max_length=200, blank=True, help_text="Worker that ran the latest attempt")
    deleted_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When its owner deleted it: hidden everywhere, its result and files removed, its quota still used",
    )

    objects = SubmissionQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]
        indexes = [
            models.Index(fields=["benchmark", "status"], name="submission_bench_status"),
            models.Index(fields=["owner", "benchmark", "created"], name="submission_owner_quota"),
            models.Index(fields=["team", "benchmark", "created"], name="submission_team_quota"),
            models.Index(fields=["team", "phase", "created"], name="submission_team_phase_quota"),
            models.Index(fields=["status", "heartbeat_at"], name="submission_status_heartbeat"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["team", "benchmark", "protocol"],
                                    condition=models.Q(chosen=True, phase__isnull=True),
                                    name="submission_one_chosen_entry"),
            models.UniqueConstraint(fields=["team", "phase", "protocol"],
                                    condition=models.Q(chosen=True, phase__isnull=False),
                                    name="submission_one_chosen_entry_per_phase"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.method_name} on {self.benchmark_id and self.benchmark.slug} ({self.status})"

    def save(self, *args: object, **kwargs: object) -> None:
        """A submission stored without a team (the admin, fixtures) is its owner's team's, as at intake."""
        if self.team_id is None and self.owner_id is not None:
            self.team = team_of(self.owner)
        super().save(*args, **kwargs)

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES
