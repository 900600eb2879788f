"""Sending evaluation jobs to the workers: the ``evaluate`` task, its queueing, and the sweep that requeues.

The jobs app imports this module when it is ready (``jobs.apps``), which
registers the task and connects ``queue_stored_submission`` to
``submissions.services.submission_stored``, so a stored submission is queued
once it commits; the admin's requeue and the sweep call ``queue_evaluation``
directly. Task names are what queued broker messages carry, so they keep the names
they were first deployed under (``submissions.tasks.*``).
"""

from __future__ import annotations

import logging
from datetime import datetime

from celery import shared_task
from celery.signals import worker_ready

from jobs import evaluation
from submissions.models import Submission

logger = logging.getLogger(__name__)


@shared_task(
    name="submissions.tasks.evaluate_submission",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def evaluate_submission(self, submission_id: int) -> str:  # type: ignore[no-untyped-def]
    """Evaluate one submission. Safe to deliver twice: only one delivery claims the job."""
    return evaluation.evaluate(int(submission_id), worker=self.request.hostname or "", task_id=self.request.id or "")


def queue_evaluation(submission_id: int) -> str:
    """Send the job's message to the ``evaluate`` queue; returns the task id ('' if the broker failed).

    A failure leaves the submission queued without a task id; the sweep
    resends it later.
    """
    try:
        sent = evaluate_submission.apply_async(args=(submission_id,), queue="evaluate")
    except Exception:
        logger.exception("could not queue submission %s; the sweep will retry", submission_id)
        return ""
    Submission.objects.filter(pk=submission_id).update(celery_task_id=sent.id)
    return str(sent.id)


def queue_stored_submission(sender: type[Submission], submission_id: int, **_: object) -> None:
    """``submission_stored``'s receiver: the transaction that stored the submission has committed."""
    queue_evaluation(submission_id)


def sweep_and_requeue(now: datetime | None = None) -> evaluation.SweepReport:
    """``evaluation.sweep_stale_jobs``, then send the message of every job it requeued or found unsent."""
    report = evaluation.sweep_stale_jobs(now)
    for pk in report.requeued + report.resent:
        queue_evaluation(pk)
    return report


@worker_ready.connect
def _sweep_on_start(**_: object) -> None:
    """A restarted worker first requeues the jobs its dead predecessor left behind."""
    sweep_and_requeue()
