"""Results of evaluations, the numbers leaderboards rank by, and the paired tests between results.

A ``Result`` is written at most once per submission (one-to-one), and its
leaderboard numbers are copied into ``MetricValue`` rows so ranking
thousands of submissions by any metric is one indexed query. A result also
keeps the per-item evidence it was scored from (``Result.evidence``, a file
under media that no view serves), from which two results are compared on
the same test items (``PairedComparison``).

A ``PairedComparison`` is made off the request path
(``leaderboards.comparisons``): a worker claims the pair by creating its row
as ``pending`` (the unique constraint lets one claim win), computes it and
marks it ``done`` or ``failed``; leaderboard renders only read finished
rows. Replacing a result's scores deletes the comparisons it takes part in
(``results.store.save_result``).

The tables keep the names they were created under (``db_table``), so a
database made before results had their own app migrates without moving a row.
"""

from __future__ import annotations

import uuid

from django.db import models, transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from benchmarks.models import Benchmark, ProtocolVersion
from submissions.models import Submission


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

    class Meta:
        db_table = "submissions_result"

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
        db_table = "submissions_metricvalue"
        constraints = [models.UniqueConstraint(fields=["result", "name"], name="one_value_per_metric")]
        indexes = [
            models.Index(fields=["benchmark", "name", "value"], name="metric_rank"),
            models.Index(fields=["protocol", "name", "value"], name="metric_rank_protocol"),
        ]

    def __str__(self) -> str:
        return f"{self.name}={self.value} (submission #{self.submission_id})"


class ComparisonState(models.TextChoices):
    PENDING = "pending", "pending"
    DONE = "done", "done"
    FAILED = "failed", "failed"


class ComparisonTrigger(models.TextChoices):
    """What made the pair adjacent: a result stored (bounded by the submission quota) or a visibility change."""

    RESULT = "result", "a result was stored"
    VISIBILITY = "visibility", "a visibility change"


class PairedComparison(models.Model):
    """``metric(first) - metric(second)`` on the same test items: first is the row above.

    ``p_value`` is null unless the test is ``done``; a ``failed`` one says why
    in ``failure`` (staff only: the leaderboard falls back to the interval-overlap rule).
    """

    metric = models.CharField(max_length=64)
    first = models.ForeignKey(Result, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Result, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=10, choices=ComparisonState.choices, default=ComparisonState.PENDING)
    trigger = models.CharField(max_length=10, choices=ComparisonTrigger.choices, default=ComparisonTrigger.RESULT)
    difference = models.FloatField(null=True)
    low = models.FloatField(null=True, help_text="95% interval of the difference")
    high = models.FloatField(null=True)
    p_value = models.FloatField(null=True, help_text="two-sided; null unless the test is done")
    method = models.CharField(max_length=20, blank=True, help_text="bootstrap or jackknife")
    failure = models.CharField(max_length=300, blank=True, help_text="why the test could not be run")
    created = models.DateTimeField(auto_now_add=True, help_text="when the pair was first claimed")
    claimed_at = models.DateTimeField(null=True, help_text="when the current claim was made (stale ones are taken over)")
    finished_at = models.DateTimeField(null=True, db_index=True)

    class Meta:
        db_table = "leaderboards_pairedcomparison"
        constraints = [
            models.UniqueConstraint(fields=["metric", "first", "second"], name="one_comparison_per_pair"),
        ]

    def __str__(self) -> str:
        return f"{self.metric}: result #{self.first_id} vs #{self.second_id} ({self.state}, p={self.p_value})"
