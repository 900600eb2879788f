"""Sending evaluation jobs to the workers: the ``evaluate`` task, its queueing, and the sweep that requeues.

The task is defined here rather than in ``submissions.tasks`` so that what
queues a job (``submissions.services`` when a submission is stored, the admin,
the sweep) imports only this module: imports run tasks -> queueing -> jobs.
"""

from __future__ import annotations

import logging
from datetime import datetime

from celery import shared_task
from celery.signals import worker_ready
from django.db import transaction

from submissions import jobs
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
    return jobs.evaluate(int(submission_id), worker=self.request.hostname or "", task_id=self.request.id or "")


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


def queue_on_commit(submission: Submission) -> None:
    """Queue the job once the transaction that stored the submission commits."""
    transaction.on_commit(lambda: queue_evaluation(submission.pk))


def sweep_and_requeue(now: datetime | None = None) -> jobs.SweepReport:
    """``jobs.sweep_stale_jobs``, then send the message of every job it requeued or found unsent."""
    report = jobs.sweep_stale_jobs(now)
    for pk in report.requeued + report.resent:
        queue_evaluation(pk)
    return report


@worker_ready.connect
def _sweep_on_start(**_: object) -> None:
    """A restarted worker first requeues the jobs its dead predecessor left behind."""
    sweep_and_requeue()
