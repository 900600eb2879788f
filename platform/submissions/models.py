"""Submissions, their evaluation job state and their results.

A ``Submission`` is both what the participant sent and the state of its one
evaluation job (status, heartbeat, attempts). A ``Result`` is written at
most once per submission (one-to-one), and its leaderboard numbers are
copied into ``MetricValue`` rows so ranking thousands of submissions by any
metric is one indexed query. A result also keeps the per-item evidence it
was scored from (``Result.evidence``, a file under media that no view
serves), from which the leaderboard tests adjacent rows against each other.
"""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models, transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from benchmarks.models import Benchmark, ProtocolVersion
from evaluator import status as status_vocabulary
from evaluator.status import JobStatus


class Kind(models.TextChoices):
    IMAGE = "image", "Container image"
    TARBALL = "tarball", "Container image tarball"
    PREDICTIONS = "predictions", "Predictions archive"
    LOCAL = "local", "Bundled baseline command"


# One vocabulary (evaluator.status): a new status is one edit there.
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


class Submission(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submissions")
    benchmark = models.ForeignKey(Benchmark, on_delete=models.PROTECT, related_name="submissions")
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

    class Meta:
        ordering = ["-created"]
        indexes = [
            models.Index(fields=["benchmark", "status"], name="submission_bench_status"),
            models.Index(fields=["owner", "benchmark", "created"], name="submission_owner_quota"),
            models.Index(fields=["status", "heartbeat_at"], name="submission_status_heartbeat"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.method_name} on {self.benchmark_id and self.benchmark.slug} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class ChunkedUpload(models.Model):
    """A large artefact arriving in resumable chunks; becomes a submission's artefact when complete."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="uploads")
    benchmark = models.ForeignKey(Benchmark, on_delete=models.CASCADE, related_name="uploads")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    filename = models.CharField(max_length=255)
    total_bytes = models.BigIntegerField()
    received_bytes = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True, help_text="Declared by the client, checked on completion")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"upload {self.id} ({self.received_bytes}/{self.total_bytes} bytes)"


class UploadLedger(models.Model):
    """The one row that opening an upload locks, so that reservations are counted and recorded one at a time.

    The reservations themselves are the ``ChunkedUpload`` rows (``submissions.upload_ledger``).
    """

    def __str__(self) -> str:
        return "upload ledger"


def evidence_upload_path(result: "Result", filename: str) -> str:
    """Evidence files are named at random, under the benchmark's folder."""
    return f"evidence/{result.submission.benchmark.slug}/{uuid.uuid4().hex}.npz"


class Result(models.Model):
    submission = models.OneToOneField(Submission, on_delete=models.CASCADE, related_name="result")
    protocol_hash = models.CharField(max_length=64)
    metrics = models.JSONField(help_text="metric name -> value (null where undefined)")
    ci95 = models.JSONField(default=dict, help_text="metric name -> [low, high] 95% bootstrap interval")
    details = models.JSONField(default=dict, help_text="Curves, per-class numbers, confusion matrices")
    extractor_name = models.CharField(max_length=100, blank=True)
    extractor_weights_sha256 = models.CharField(max_length=64, blank=True)
    comparable = models.BooleanField(default=True, help_text="False when non-standard weights made the numbers")
    evidence = models.FileField(
        upload_to=evidence_upload_path, blank=True, max_length=300,
        help_text="Per-item evidence (.npz, evaluator.evidence_store) for paired tests; derives from the test "
                  "truth, so it is never served",
    )
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"result of submission #{self.submission_id}"


@receiver(post_delete, sender=Result)
def remove_evidence_file(sender: type[Result], instance: Result, **kwargs: object) -> None:
    """A deleted result (re-queued, or its submission deleted) takes its evidence file along, once committed."""
    if instance.evidence:
        storage, name = instance.evidence.storage, instance.evidence.name
        transaction.on_commit(lambda: storage.delete(name))


class MetricValue(models.Model):
    """One leaderboard number of one result, denormalised for indexed sorting."""

    result = models.ForeignKey(Result, on_delete=models.CASCADE, related_name="values")
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="metric_values")
    benchmark = models.ForeignKey(Benchmark, on_delete=models.CASCADE, related_name="metric_values")
    protocol = models.ForeignKey(ProtocolVersion, on_delete=models.CASCADE, related_name="metric_values")
    name = models.CharField(max_length=64)
    value = models.FloatField(null=True)
    ci_low = models.FloatField(null=True)
    ci_high = models.FloatField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["result", "name"], name="one_value_per_metric")]
        indexes = [
            models.Index(fields=["benchmark", "name", "value"], name="metric_rank"),
            models.Index(fields=["protocol", "name", "value"], name="metric_rank_protocol"),
        ]

    def __str__(self) -> str:
        return f"{self.name}={self.value} (submission #{self.submission_id})"
