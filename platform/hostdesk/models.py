"""Re-scores: an entry evaluated again under a newer protocol version, its first result kept.

A re-score stores a new submission (the same method, image or file, on the
new protocol) and links it here to the one it re-scores; the original and its
result stay as they were, so a result is never overwritten and the history
of an entry is the chain of its re-scores.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from benchmarks.models import ProtocolVersion
from submissions.models import Submission


class Rescore(models.Model):
    original = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="rescores")
    rescored = models.OneToOneField(Submission, on_delete=models.CASCADE, related_name="rescored_from")
    protocol = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                     related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]
        constraints = [models.UniqueConstraint(fields=["original", "protocol"], name="one_rescore_per_version")]

    def __str__(self) -> str:
        return f"#{self.original_id} re-scored as #{self.rescored_id} on {self.protocol}"
