"""The periodic maintenance pass, as a Celery task (beat runs it on the ``maintenance`` queue).

Its name is what queued broker messages and beat schedules carry, so it keeps
the one it was first deployed under.
"""

from __future__ import annotations

from celery import shared_task

from jobs.queueing import sweep_and_requeue
from leaderboards.comparisons import compare_visible_neighbours
from leaderboards.figure_store import remove_old_figures
from notifications.mail import submissions_ended
from notifications.phases import announce_phases
from submissions.models import Submission
from uploads.chunked import remove_abandoned_uploads


@shared_task(name="submissions.tasks.sweep_stale_jobs", ignore_result=True)
def sweep_stale_jobs() -> dict[str, list[int] | list[str] | int]:
    """Requeue or fail jobs whose worker stopped beating their heartbeat (mailing the owners of those that
    failed); remove abandoned chunked uploads; compare the leaderboard neighbours that visibility changes made
    (``leaderboards.comparisons``); mail the phase openings and closes that are due (``notifications.phases``);
    remove drawn figures no page links any more (``leaderboards.figure_store``)."""
    report = sweep_and_requeue()
    submissions_ended(Submission.objects.filter(pk__in=report.failed).select_related("owner", "benchmark"))
    removed_uploads = remove_abandoned_uploads()
    return {"requeued": report.requeued, "failed": report.failed, "resent": report.resent,
            "removed_uploads": removed_uploads, "compared": compare_visible_neighbours(),
            "announced": announce_phases(), "removed_figures": remove_old_figures()}
