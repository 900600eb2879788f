"""Celery tasks. The job logic lives in ``submissions.jobs``, the queueing in ``submissions.queueing``;
these are thin wrappers (Celery finds them here). The comparison of a newly stored result is
``leaderboards.tasks.compare_neighbours``."""

from __future__ import annotations

from celery import shared_task

from leaderboards.comparisons import compare_visible_neighbours
from submissions import chunked
from submissions.queueing import evaluate_submission, sweep_and_requeue

__all__ = ["evaluate_submission", "sweep_stale_jobs"]


@shared_task(name="submissions.tasks.sweep_stale_jobs", ignore_result=True)
def sweep_stale_jobs() -> dict[str, list[int] | list[str] | int]:
    """Requeue or fail jobs whose worker stopped beating their heartbeat; remove abandoned chunked uploads;
    compare the leaderboard neighbours that visibility changes made (``leaderboards.comparisons``)."""
    report = sweep_and_requeue()
    removed_uploads = chunked.remove_abandoned_uploads()
    return {"requeued": report.requeued, "failed": report.failed, "resent": report.resent,
            "removed_uploads": removed_uploads, "compared": compare_visible_neighbours()}
