"""Celery tasks. The job logic lives in ``submissions.jobs``; these are thin wrappers."""

from __future__ import annotations

from celery import shared_task

from submissions import chunked, jobs


@shared_task(
    name="submissions.tasks.evaluate_submission",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def evaluate_submission(self, submission_id: int) -> str:  # type: ignore[no-untyped-def]
    """Evaluate one submission. Safe to deliver twice: only one delivery claims the job."""
    return jobs.evaluate(int(submission_id), worker=self.request.hostname or "", task_id=self.request.id or "")


@shared_task(name="submissions.tasks.sweep_stale_jobs", ignore_result=True)
def sweep_stale_jobs() -> dict[str, list[int] | list[str]]:
    """Requeue or fail jobs whose worker stopped beating their heartbeat; remove abandoned chunked uploads."""
    report = jobs.sweep_stale_jobs()
    removed_uploads = chunked.remove_abandoned_uploads()
    return {"requeued": report.requeued, "failed": report.failed, "resent": report.resent,
            "removed_uploads": removed_uploads}
