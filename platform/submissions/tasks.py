"""Celery tasks. The job logic lives in ``submissions.jobs``, the queueing in ``submissions.queueing``;
these are thin wrappers (Celery finds them here)."""

from __future__ import annotations

from celery import shared_task

from submissions import chunked
from submissions.queueing import evaluate_submission, sweep_and_requeue

__all__ = ["evaluate_submission", "sweep_stale_jobs"]


@shared_task(name="submissions.tasks.sweep_stale_jobs", ignore_result=True)
def sweep_stale_jobs() -> dict[str, list[int] | list[str]]:
    """Requeue or fail jobs whose worker stopped beating their heartbeat; remove abandoned chunked uploads."""
    report = sweep_and_requeue()
    removed_uploads = chunked.remove_abandoned_uploads()
    return {"requeued": report.requeued, "failed": report.failed, "resent": report.resent,
            "removed_uploads": removed_uploads}
