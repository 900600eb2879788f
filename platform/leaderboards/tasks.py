"""The Celery task that compares a newly stored result with its leaderboard neighbours.

It lives here rather than in ``submissions.tasks`` so that ``submissions.jobs``
(which queues it when a result is stored) imports it without a circle:
submissions.tasks -> queueing -> jobs -> leaderboards.tasks. It runs on the
``maintenance`` queue, whose worker sees the data root and its build secret.
"""

from __future__ import annotations

import logging

from celery import shared_task

from leaderboards import comparisons

logger = logging.getLogger(__name__)

QUEUE = "maintenance"


@shared_task(name="leaderboards.tasks.compare_neighbours", acks_late=True, ignore_result=True)
def compare_neighbours(result_id: int) -> int:
    """Compare the pairs a stored result forms on every leaderboard metric (claims make a repeat a no-op)."""
    return comparisons.compare_new_result(int(result_id))


def queue_comparisons(result_id: int) -> None:
    """Send the task; a broker failure is logged and the maintenance pass compares the pairs later."""
    try:
        compare_neighbours.apply_async(args=(result_id,), queue=QUEUE)
    except Exception:
        logger.exception("could not queue the comparisons of result %s; the maintenance pass will make them",
                         result_id)
