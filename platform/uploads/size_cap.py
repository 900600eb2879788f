"""The cap on one-shot upload bodies (the submit form, ``POST /api/submissions/``), set before a byte is read.

Big files never sit in memory: Django's upload handlers spill them to a
temporary file (``FILE_UPLOAD_MAX_MEMORY_SIZE``), and ``SizeCapUploadHandler``
stops reading once a request carries more than the largest upload any active
benchmark allows. A request that announces too many bytes in
``Content-Length``, or more than the disk that stores artefacts has room for
(``uploads.ledger.check_one_shot``), is refused before its body is read at all.
"""

from __future__ import annotations

from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest

from benchmarks.models import Benchmark
from datasets.spec_models import Limits
from evaluator.archives import MEGABYTE
from uploads.ledger import INSUFFICIENT_STORAGE, StorageRefused, check_one_shot

# Room for the form fields and multipart boundaries around the file itself.
FORM_OVERHEAD_BYTES = 64 * 1024


def largest_upload_bytes() -> int:
    """The biggest upload any active benchmark accepts, plus the form around it."""
    active = Benchmark.objects.filter(is_active=True).only("spec")
    limits = [benchmark.typed_spec.limits.upload_mb for benchmark in active]
    return max(limits or [Limits().upload_mb]) * MEGABYTE + FORM_OVERHEAD_BYTES


def announced_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def too_large_message(size_bytes: int, limit_bytes: int) -> str:
    return (
        f"the upload is {size_bytes / MEGABYTE:.1f} MB, over the limit of {limit_bytes / MEGABYTE:.0f} MB; "
        "submit a container image reference instead, or make the archive smaller"
    )


class SizeCapUploadHandler(FileUploadHandler):
    """Stops a multipart upload once its files pass ``max_bytes`` and marks the request.

    Placed first among the request's upload handlers; the request then has
    ``upload_rejected`` set to a message the view shows.
    """

    def __init__(self, request: HttpRequest, max_bytes: int) -> None:
        super().__init__(request)
        self.max_bytes = max_bytes
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.max_bytes:
            self.request.upload_rejected = too_large_message(self.received, self.max_bytes)  # type: ignore[union-attr]
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def install_size_cap(request: HttpRequest) -> str:
    """Cap the request's upload before its body is read; returns a refusal message ('' when fine).

    A body the disk has no room for (``uploads.ledger.check_one_shot``) is refused too, and
    ``refusal_status`` then answers 507 instead of 413.
    """
    limit = largest_upload_bytes()
    if announced_length(request) > limit:
        return too_large_message(announced_length(request), limit)
    try:
        check_one_shot(announced_length(request))
    except StorageRefused as exc:
        request.upload_refusal_status = INSUFFICIENT_STORAGE  # type: ignore[attr-defined]
        return str(exc)
    request.upload_handlers.insert(0, SizeCapUploadHandler(request, limit))
    return ""


def refusal_status(request: HttpRequest) -> int:
    """The HTTP status for ``install_size_cap``'s refusal: 507 when the disk is short, else 413."""
    return getattr(request, "upload_refusal_status", 413)
