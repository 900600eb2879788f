"""Resumable uploads and the ledger row that serialises their reservations.

The tables keep the names they were created under (``db_table``), so a
database made before the uploads had their own app migrates without moving
a row.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from benchmarks.models import Benchmark
from evaluator.kinds import SubmissionKind


class ChunkedUpload(models.Model):
    """A large artefact arriving in resumable chunks; becomes a submission's artefact when complete."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="uploads")
    benchmark = models.ForeignKey(Benchmark, on_delete=models.CASCADE, related_name="uploads")
    kind = models.CharField(max_length=20, choices=[(kind.value, kind.label) for kind in SubmissionKind])
    filename = models.CharField(max_length=255)
    total_bytes = models.BigIntegerField()
    received_bytes = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True, help_text="Declared by the client, checked on completion")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "submissions_chunkedupload"

    def __str__(self) -> str:
        return f"upload {self.id} ({self.received_bytes}/{self.total_bytes} bytes)"


class UploadLedger(models.Model):
    """The one row that opening an upload locks, so that reservations are counted and recorded one at a time.

    The reservations themselves are the ``ChunkedUpload`` rows (``uploads.ledger``).
    """

    class Meta:
        db_table = "submissions_uploadledger"

    def __str__(self) -> str:
        return "upload ledger"
