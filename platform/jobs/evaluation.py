"""The database side of evaluation jobs: the job store, claiming, sweeping, running one job.

Every state change is one conditional UPDATE, so two workers, a sweep and a
cancel (``submissions.actions.cancel_submission``) can race on one
submission and exactly one of them wins:

- ``claim_job`` starts a job only if it is queued, or running with a dead
  heartbeat (its worker died and the broker redelivered the message);
- ``sweep_stale_jobs`` requeues running jobs whose heartbeat stopped, at
  most ``TOONBENCH_MAX_ATTEMPTS`` starts in all, then fails them;
- a final status (finished, failed, ...) is never overwritten, and a result
  is written with ``update_or_create`` (one row per submission, ``results.store``).
"""

from __future__ import annotations

import logging
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Iterator

from django.conf import settings
from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from datasets.phases import WHOLE_HELDOUT
from evaluator.folders import sweep_scratch_folders
from evaluator.jobs import EvaluationRequest, JobError, run_evaluation
from evaluator.runners import make_runner
from jobs.reasons import public_reason
from jobs.samples import keep_samples
from notifications.mail import submission_ended
from registry.policy import pull_settings
from results.store import save_result
from submissions.models import FINAL_STATUSES, IN_PROGRESS_STATUSES, Kind, Status, Submission

logger = logging.getLogger(__name__)
REASON_CHARS = 2000


class DjangoJobStore:
    """``evaluator.jobs.JobStore`` over the ``Submission`` and ``Result`` tables."""

    def set_status(self, job_id: str, status: str, **fields: Any) -> None:
        now = timezone.now()
        updates: dict[str, Any] = {"status": status}
        if "reason" in fields:
            updates["status_reason"] = public_reason(str(fields["reason"]))[:REASON_CHARS]
        if fields.get("image_digest"):
            updates["image_digest"] = str(fields["image_digest"])[:400]
        if status in FINAL_STATUSES:
            updates["finished_at"] = now
        else:
            updates["heartbeat_at"] = now
        if Submission.objects.filter(pk=int(job_id)).exclude(status__in=FINAL_STATUSES).update(**updates):
            submission_ended(Submission.objects.select_related("owner", "benchmark").get(pk=int(job_id)))

    def heartbeat(self, job_id: str) -> None:
        Submission.objects.filter(pk=int(job_id), status__in=IN_PROGRESS_STATUSES).update(heartbeat_at=timezone.now())

    def is_cancelled(self, job_id: str) -> bool:
        return Submission.objects.filter(pk=int(job_id), status=Status.CANCELLED).exists()

    def save_result(self, job_id: str, result: Any) -> None:
        save_result(Submission.objects.select_related("protocol").get(pk=int(job_id)), result)

    def set_log_tail(self, job_id: str, text: str) -> None:
        Submission.objects.filter(pk=int(job_id)).update(log_tail=text[-settings.TOONBENCH_LOG_TAIL_CHARS:])

    def set_run_info(self, job_id: str, effective_limits: dict[str, Any], host_info: dict[str, Any]) -> None:
        Submission.objects.filter(pk=int(job_id)).update(effective_limits=effective_limits, host_info=host_info)

    def end_thread(self) -> None:
        connection.close()


def claim_job(submission_id: int, worker: str = "", task_id: str = "") -> Submission | None:
    """Start an attempt at a job if nobody else is running it; None when there is nothing to do.

    A job is claimable when queued, or when running with a heartbeat older
    than ``TOONBENCH_HEARTBEAT_STALE_S`` (its worker died). A job that has
    used up its attempts fails instead.
    """
    now = timezone.now()
    claimable = Q(status=Status.QUEUED) | (Q(status__in=IN_PROGRESS_STATUSES) & _stale(now))
    jobs = Submission.objects.filter(claimable, pk=submission_id)
    started = jobs.filter(attempts__lt=settings.TOONBENCH_MAX_ATTEMPTS).update(
        status=Status.RUNNING,
        attempts=F("attempts") + 1,
        started_at=now,
        heartbeat_at=now,
        finished_at=None,
        worker=worker[:200],
        celery_task_id=task_id[:64] or F("celery_task_id"),
    )
    if started:
        return Submission.objects.select_related("benchmark", "protocol").get(pk=submission_id)
    jobs.update(status=Status.FAILED, finished_at=now, status_reason=_gave_up_reason())
    return None


def _stale(now: datetime) -> Q:
    cutoff = now - timedelta(seconds=settings.TOONBENCH_HEARTBEAT_STALE_S)
    return Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True)


def _gave_up_reason() -> str:
    return (
        f"the worker evaluating this submission stopped responding {settings.TOONBENCH_MAX_ATTEMPTS} times; "
        "giving up (the submission may exceed the evaluator's resources)"
    )


@dataclass
class SweepReport:
    requeued: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    resent: list[int] = field(default_factory=list)
    scratch_removed: list[str] = field(default_factory=list)


def sweep_stale_jobs(now: datetime | None = None) -> SweepReport:
    """Requeue running jobs whose heartbeat stopped; fail those out of attempts.

    Also finds queued jobs whose message never reached the broker (no task
    id after the stale interval). The report's ``requeued`` and ``resent``
    jobs still need their message: ``jobs.queueing.sweep_and_requeue``
    sends them, so a submission is never lost.
    """
    now = now or timezone.now()
    report = SweepReport()
    stale = Submission.objects.filter(_stale(now), status__in=IN_PROGRESS_STATUSES)
    for job in stale.only("pk", "attempts", "status", "heartbeat_at"):
        same_state = Submission.objects.filter(pk=job.pk, status=job.status, heartbeat_at=job.heartbeat_at)
        if job.attempts >= settings.TOONBENCH_MAX_ATTEMPTS:
            if same_state.update(status=Status.FAILED, finished_at=now, status_reason=_gave_up_reason()):
                report.failed.append(job.pk)
            continue
        reason = (
            f"the worker evaluating this submission stopped responding (attempt {job.attempts} of "
            f"{settings.TOONBENCH_MAX_ATTEMPTS}); queued again"
        )
        requeue = {"status": Status.QUEUED, "status_reason": reason, "heartbeat_at": None, "worker": ""}
        if same_state.update(**requeue, celery_task_id=""):
            report.requeued.append(job.pk)
    cutoff = now - timedelta(seconds=settings.TOONBENCH_HEARTBEAT_STALE_S)
    orphans = Submission.objects.filter(status=Status.QUEUED, celery_task_id="", created__lt=cutoff)
    report.resent = [pk for pk in orphans.values_list("pk", flat=True) if pk not in report.requeued]
    report.scratch_removed = sweep_scratch()
    return report


def sweep_scratch() -> list[str]:
    """Remove this host's scratch folders of jobs that are not running (left by a dead worker)."""
    running = Submission.objects.filter(status__in=IN_PROGRESS_STATUSES).values_list("pk", flat=True)
    return sweep_scratch_folders(
        Path(settings.TOONBENCH_WORK_ROOT),
        [str(pk) for pk in running],
        min_age_s=settings.TOONBENCH_HEARTBEAT_STALE_S,
    )


def evaluate(submission_id: int, worker: str = "", task_id: str = "") -> str:
    """Claim and run one job; the body of the Celery task. Returns the final status or 'skipped'."""
    submission = claim_job(submission_id, worker, task_id)
    if submission is None:
        return "skipped"
    store = DjangoJobStore()
    try:
        with artefact_file(submission) as artefact:
            request = evaluation_request(submission, artefact)
            runner = runner_for_submission(submission, artefact)
            status = run_evaluation(request, store, runner)
            if status == Status.FINISHED:
                keep_samples(submission, runner)
            return status
    except Exception as exc:
        logger.exception("could not start the evaluation of submission %s", submission_id)
        reason = str(exc) if isinstance(exc, JobError) else f"evaluation error: {type(exc).__name__}: {exc}"
        store.set_status(str(submission_id), Status.FAILED, reason=reason)
        return Status.FAILED


def scored_part(submission: Submission) -> str | None:
    """The held-out part the submission's phase scores; None (the whole held-out split) without one."""
    phase = submission.phase
    if phase is None or phase.split == WHOLE_HELDOUT:
        return None
    return phase.split


def evaluation_request(submission: Submission, artefact: Path | None) -> EvaluationRequest:
    return EvaluationRequest(
        job_id=str(submission.pk),
        slug=submission.benchmark.slug,
        kind=submission.kind,
        data_root=Path(settings.TOONBENCH_DATA_ROOT),
        protocol_hash=submission.protocol.protocol_hash,
        predictions=artefact if submission.kind == Kind.PREDICTIONS else None,
        work_root=Path(settings.TOONBENCH_WORK_ROOT),
        extractor=settings.TOONBENCH_FID_EXTRACTOR or None,
        device=settings.TOONBENCH_DEVICE or None,
        heartbeat_interval_s=settings.TOONBENCH_HEARTBEAT_INTERVAL_S,
        log_tail_chars=settings.TOONBENCH_LOG_TAIL_CHARS,
        part=scored_part(submission),
    )


def runner_for_submission(submission: Submission, artefact: Path | None) -> Any:
    """The runner for this submission's kind (None for predictions: nothing runs)."""
    if submission.kind == Kind.PREDICTIONS:
        return None
    if submission.kind == Kind.LOCAL:
        if settings.TOONBENCH_RUNNER != "local" and not submission.is_baseline:
            raise JobError("local commands run only for bundled baselines or with TOONBENCH_RUNNER=local")
        return make_runner(
            "local",
            command=local_command(submission.command),
            cwd=settings.REPO_ROOT,
            heartbeat_interval_s=settings.TOONBENCH_HEARTBEAT_INTERVAL_S,
        )
    docker_options = {
        "labels": {"toonbench.submission": str(submission.pk), "toonbench.benchmark": submission.benchmark.slug},
        "heartbeat_interval_s": settings.TOONBENCH_HEARTBEAT_INTERVAL_S,
        "gpu_ids": settings.TOONBENCH_GPUS,
        "max_image_mb": settings.TOONBENCH_MAX_IMAGE_MB,
        "max_image_ratio": settings.TOONBENCH_MAX_IMAGE_RATIO,
    }
    if submission.kind == Kind.TARBALL:
        return make_runner("docker", tarball=artefact, **docker_options)
    if not submission.resolved_ref:
        raise JobError("the image reference was not pinned to a digest when submitted; submit it again")
    job_log = partial(DjangoJobStore().set_log_tail, str(submission.pk))  # pull progress, until the run's own log
    return make_runner("docker", image=submission.resolved_ref, pull=pull_settings(log=job_log), **docker_options)


def local_command(command: list[str]) -> list[str]:
    """A stored command with ``python`` (or ``{python}``) as its program run by this interpreter."""
    parts = [str(part) for part in command]
    if parts and parts[0] in ("python", "python3", "{python}"):
        parts[0] = sys.executable
    return parts


@contextmanager
def artefact_file(submission: Submission) -> Iterator[Path | None]:
    """A local path to the submission's artefact, downloaded first from remote storage."""
    if not submission.artefact:
        yield None
        return
    try:
        local_path = Path(submission.artefact.path)
    except NotImplementedError:
        local_path = None
    if local_path is not None:
        yield local_path
        return
    suffix = "".join(Path(submission.artefact.name).suffixes[-2:])
    Path(settings.TOONBENCH_WORK_ROOT).mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(suffix=suffix, dir=settings.TOONBENCH_WORK_ROOT) as copy:
        with submission.artefact.open("rb") as source:
            for chunk in iter(lambda: source.read(1 << 20), b""):
                copy.write(chunk)
        copy.flush()
        yield Path(copy.name)
