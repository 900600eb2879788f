"""Stored paired tests between results that sit next to each other on a leaderboard.

A comparison is computed the first time its pair is shown (``leaderboards.comparisons``)
and read back on every later render. Replacing a result's scores deletes the
comparisons it takes part in (``submissions.jobs.save_result``).
"""

from __future__ import annotations

from django.db import models


class PairedComparison(models.Model):
    """``metric(first) - metric(second)`` on the same test items: first is the row above.

    ``p_value`` is null when the test could not be run; ``failure`` then says why
    (staff only: the leaderboard falls back to the interval-overlap rule).
    """

    metric = models.CharField(max_length=64)
    first = models.ForeignKey("submissions.Result", on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey("submissions.Result", on_delete=models.CASCADE, related_name="+")
    difference = models.FloatField(null=True)
    low = models.FloatField(null=True, help_text="95% interval of the difference")
    high = models.FloatField(null=True)
    p_value = models.FloatField(null=True, help_text="two-sided; null when the test failed")
    method = models.CharField(max_length=20, blank=True, help_text="bootstrap or jackknife")
    failure = models.CharField(max_length=300, blank=True, help_text="why the test could not be run")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["metric", "first", "second"], name="one_comparison_per_pair"),
        ]

    def __str__(self) -> str:
        return f"{self.metric}: result #{self.first_id} vs #{self.second_id} (p={self.p_value})"
