"""Stored paired tests between results that sit next to each other on a leaderboard.

A comparison is made off the request path (``leaderboards.comparisons``): a
worker claims the pair by creating its row as ``pending`` (the unique
constraint lets one claim win), computes it and marks it ``done`` or
``failed``; leaderboard renders only read finished rows. Replacing a result's
scores deletes the comparisons it takes part in (``submissions.jobs.save_result``).
"""

from __future__ import annotations

from django.db import models


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
    first = models.ForeignKey("submissions.Result", on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey("submissions.Result", on_delete=models.CASCADE, related_name="+")
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
        constraints = [
            models.UniqueConstraint(fields=["metric", "first", "second"], name="one_comparison_per_pair"),
        ]

    def __str__(self) -> str:
        return f"{self.metric}: result #{self.first_id} vs #{self.second_id} ({self.state}, p={self.p_value})"
