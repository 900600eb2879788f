"""What a participant does with an existing submission: cancel, re-run, publish or hide.

Permission checks live in ``submissions.access``; these functions assume the
caller may act. A re-run goes through ``submissions.services`` like any new
submission, so there is one code path for pages and the API. A cancel is one
conditional update: a worker running the job sees it at its next heartbeat
(``jobs.evaluation``), and a job that ended first is left as it ended.
"""

from __future__ import annotations

from django.core.files import File
from django.utils import timezone

from submissions.models import FINAL_STATUSES, Status, Submission
from submissions.services import SubmissionRefused, create_submission


def cancel_submission(submission: Submission, reason: str = "cancelled by its owner") -> bool:
    """Cancel a queued or running job; a running one stops within one heartbeat interval."""
    cancelled = (
        Submission.objects.filter(pk=submission.pk)
        .exclude(status__in=FINAL_STATUSES)
        .update(status=Status.CANCELLED, status_reason=reason, finished_at=timezone.now())
    )
    submission.refresh_from_db()
    return bool(cancelled)


def cancel(submission: Submission, by_staff: bool = False) -> bool:
    """Cancel a queued or running submission; False when it had already ended."""
    reason = "cancelled by staff" if by_staff else "cancelled by its owner"
    return cancel_submission(submission, reason=reason)


def rerun(submission: Submission) -> Submission:
    """A new submission with the same artefact and description, queued for evaluation.

    Counts against the owner's daily quota like any submission. Only an
    ended submission can be re-run. Raises ``SubmissionRefused`` or
    ``QuotaExceeded``.
    """
    if not submission.is_final:
        raise SubmissionRefused(f"submission #{submission.pk} is still {submission.status}; cancel it first")
    details = {
        "description": submission.description,
        "paper_url": submission.paper_url,
        "code_url": submission.code_url,
        "is_public": submission.is_public,
    }
    common = {
        "image_ref": submission.image_ref,
        # The same image, not whatever the tag points to now.
        "resolved_ref": submission.resolved_ref,
        "command": submission.command or None,
        "is_baseline": submission.is_baseline,
    }
    if not submission.artefact:
        return create_submission(submission.owner, submission.benchmark, submission.kind, submission.method_name,
                                 **common, **details)
    with submission.artefact.open("rb") as source:
        artefact = File(source, name=submission.artefact.name.rsplit("/", 1)[-1])
        return create_submission(submission.owner, submission.benchmark, submission.kind, submission.method_name,
                                 artefact=artefact, **common, **details)


def set_public(submission: Submission, is_public: bool) -> None:
    Submission.objects.filter(pk=submission.pk).update(is_public=is_public)
    submission.is_public = is_public
