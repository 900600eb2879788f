"""The periodic maintenance pass, as a Celery task (beat runs it on the ``maintenance`` queue).

Its name is what queued broker messages and beat schedules carry, so it keeps
the one it was first deployed under.
"""

from __future__ import annotations

from celery import shared_task

from jobs.queueing import sweep_and_requeue
from leaderboards.comparisons import compare_visible_neighbours
from uploads.chunked import remove_abandoned_uploads


@shared_task(name="submissions.tasks.sweep_stale_jobs", ignore_result=True)
def sweep_stale_jobs() -> dict[str, list[int] | list[str] | int]:
    """Requeue or fail jobs whose worker stopped beating their heartbeat; remove abandoned chunked uploads;
    compare the leaderboard neighbours that visibility changes made (``leaderboards.comparisons``)."""
    report = sweep_and_requeue()
    removed_uploads = remove_abandoned_uploads()
    return {"requeued": report.requeued, "failed": report.failed, "resent": report.resent,
            "removed_uploads": removed_uploads, "compared": compare_visible_neighbours()}
