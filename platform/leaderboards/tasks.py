"""The Celery task that compares a newly stored result with its leaderboard neighbours.

``queue_comparisons`` receives ``results.store.result_stored`` (connected in
``leaderboards.apps``), so storing a result never imports the leaderboard.
The task runs on the ``maintenance`` queue, whose worker sees the data root
and its build secret.
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


def queue_comparisons(sender: object, result_id: int, **_: object) -> None:
    """Send the task once a result is stored; a broker failure is logged and the maintenance pass compares
    the pairs later."""
    try:
        compare_neighbours.apply_async(args=(result_id,), queue=QUEUE)
    except Exception:
        logger.exception("could not queue the comparisons of result %s; the maintenance pass will make them",
                         result_id)
