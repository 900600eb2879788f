"""One evaluation job, from submission to stored result, with no web framework.

``run_evaluation`` is the single code path every deployment uses: prepare
``/input`` from the built benchmark, run the submission (or unpack a
predictions archive), validate and score the output, store the result. The
job's state lives behind a small ``JobStore`` (the site's database, or
memory in a dev kit); the container runs behind a ``Runner``.

Status lifecycle: queued -> running -> scoring -> finished | failed |
timed_out | out_of_memory | cancelled. Every exception ends the job as
``failed`` with a reason the submitter can read: a job is never left
running by an error. While it runs, a background thread beats the job's
heartbeat and polls for cancellation, so a dead worker is noticed (its
heartbeat stops) and a cancel reaches the runner within one interval.

Before a container runs, the spec's limits are fitted to the runner's host
(``runners.host.fit_limits``: at most what the host has) and recorded with
the job (``set_run_info``, optional for a store); a host that cannot meet a
hard requirement fails the job at once. The log tail is stored while the
container runs, not only after. Each job's scratch folder is removed
afterwards whatever the submission left in it (``evaluator.folders``).
The result's intervals are seeded from the build secret of the data root
(``evaluator.scoring.server_statistics_seed``), checked before anything runs.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from datasets.build import BuiltBenchmark, load_built
from datasets.secret import BuildSecretError
from evaluator.archives import EXTRA_ARCHIVE_MEMBERS, ArchiveError, ArchiveLimits, extract_predictions
from evaluator.contract import input_items, prepare_input
from evaluator.folders import scratch_folder
from evaluator.kinds import SubmissionKind
from evaluator.output_files import OutputError
from evaluator.runners.base import (
    OutputCheck,
    RunLimits,
    Runner,
    RunnerError,
    RunResult,
    memory_reason,
    output_size_reason,
    timeout_reason,
)
from evaluator.runners.host import HostCannotRun, fit_limits, limits_record
from evaluator.scoring import EvaluationResult, StatisticsSecretError, score_outputs, server_statistics_seed
from evaluator.status import FINAL_STATUSES, JobStatus, RunOutcome, job_status_of

logger = logging.getLogger(__name__)

KINDS = tuple(kind.value for kind in SubmissionKind)
MEGABYTE = 1024 * 1024


class JobError(Exception):
    """A job cannot go on; the message is shown to the submitter as the failure reason."""


class JobCancelled(Exception):
    """The job was cancelled while it ran."""


@dataclass(frozen=True)
class EvaluationRequest:
    """Everything a worker needs to evaluate one submission.

    ``protocol_hash`` is the protocol the submission was made for: if the
    built benchmark on this worker has another, the job fails instead of
    scoring against a different split. ``predictions`` is the archive of a
    predictions submission (no container runs). ``part`` is the held-out part
    a phase scores: the container sees and the score counts its items only.
    """

    job_id: str
    slug: str
    kind: str
    data_root: Path
    protocol_hash: str = ""
    part: str | None = None
    predictions: Path | None = None
    work_root: Path | None = None
    extractor: str | None = None
    device: str | None = None
    heartbeat_interval_s: float = 10.0
    log_tail_chars: int = 20000


class JobStore(Protocol):
    """Where a job's state lives. Implementations must make ``save_result`` idempotent."""

    def set_status(self, job_id: str, status: str, **fields: Any) -> None:
        """Move the job to ``status``; ``fields`` may carry ``reason`` and ``image_digest``."""

    def heartbeat(self, job_id: str) -> None:
        """Record that the job is alive now."""

    def is_cancelled(self, job_id: str) -> bool:
        """True once someone asked to cancel the job."""

    def save_result(self, job_id: str, result: EvaluationResult) -> None:
        """Store the job's result; a second call replaces it, never duplicates it."""

    def set_log_tail(self, job_id: str, text: str) -> None:
        """Replace the job's captured log tail (called repeatedly while the container runs)."""

    def set_run_info(self, job_id: str, effective_limits: dict[str, Any], host_info: dict[str, Any]) -> None:
        """Optional: record the limits the run was given and the host it ran on."""

    def end_thread(self) -> None:
        """Called by the job's heartbeat thread before it exits, to release per-thread resources."""


@dataclass
class MemoryJobStore:
    """A job store in a dict: for the dev kit and for running jobs without a database."""

    statuses: dict[str, str] = field(default_factory=dict)
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: dict[str, EvaluationResult] = field(default_factory=dict)
    logs: dict[str, str] = field(default_factory=dict)
    log_history: dict[str, list[str]] = field(default_factory=dict)
    run_info: dict[str, dict[str, Any]] = field(default_factory=dict)
    heartbeats: dict[str, float] = field(default_factory=dict)
    cancelled: set[str] = field(default_factory=set)

    def set_status(self, job_id: str, status: str, **fields: Any) -> None:
        if self.statuses.get(job_id) in FINAL_STATUSES:
            return
        self.statuses[job_id] = status
        self.fields.setdefault(job_id, {}).update(fields)

    def heartbeat(self, job_id: str) -> None:
        self.heartbeats[job_id] = time.time()

    def is_cancelled(self, job_id: str) -> bool:
        return job_id in self.cancelled

    def save_result(self, job_id: str, result: EvaluationResult) -> None:
        self.results[job_id] = result

    def set_log_tail(self, job_id: str, text: str) -> None:
        self.logs[job_id] = text
        self.log_history.setdefault(job_id, []).append(text)

    def set_run_info(self, job_id: str, effective_limits: dict[str, Any], host_info: dict[str, Any]) -> None:
        self.run_info[job_id] = {"effective_limits": effective_limits, "host_info": host_info}

    def end_thread(self) -> None:
        return None

    def cancel(self, job_id: str) -> None:
        self.cancelled.add(job_id)
        self.statuses[job_id] = JobStatus.CANCELLED


def run_evaluation(request: EvaluationRequest, store: JobStore, runner: Runner | None = None) -> str:
    """Evaluate one submission end to end; returns the final status (never raises for job errors)."""
    job_id = request.job_id
    try:
        with _Heartbeat(store, job_id, request.heartbeat_interval_s) as beat:
            return _evaluate(request, store, runner, beat)
    except JobCancelled:
        store.set_status(job_id, JobStatus.CANCELLED, reason="cancelled on request")
        return JobStatus.CANCELLED
    except (JobError, ArchiveError, OutputError) as exc:
        store.set_status(job_id, JobStatus.FAILED, reason=str(exc))
        return JobStatus.FAILED
    except RunnerError as exc:
        store.set_status(job_id, JobStatus.FAILED, reason=f"the evaluator could not run the submission: {exc}")
        return JobStatus.FAILED
    except Exception as exc:
        logger.exception("evaluation job %s failed", job_id)
        store.set_status(job_id, JobStatus.FAILED, reason=f"evaluation error: {type(exc).__name__}: {exc}")
        return JobStatus.FAILED


def _evaluate(request: EvaluationRequest, store: JobStore, runner: Runner | None, beat: "_Heartbeat") -> str:
    job_id = request.job_id
    if request.kind not in KINDS:
        raise JobError(f"unknown submission kind {request.kind!r} (expected one of {', '.join(KINDS)})")
    store.set_status(job_id, JobStatus.RUNNING)
    built = _load_benchmark(request)
    seed = _statistics_seed(built, request.data_root)
    work_root = Path(request.work_root) if request.work_root else None
    if work_root is not None:
        work_root.mkdir(parents=True, exist_ok=True)
    with scratch_folder(job_id, work_root) as scratch:
        output_dir = scratch / "output"
        output_dir.mkdir()
        if request.kind == SubmissionKind.PREDICTIONS:
            if request.predictions is None:
                raise JobError("predictions submission without an archive")
            extract_predictions(request.predictions, output_dir, _archive_limits(built))
        else:
            if runner is None:
                raise JobError(f"no runner configured for {request.kind!r} submissions")
            status = _run_container(request, store, runner, built, scratch, output_dir, beat)
            if status != JobStatus.FINISHED:
                return status
        beat.raise_if_cancelled()
        store.set_status(job_id, JobStatus.SCORING)
        result = score_outputs(
            built, output_dir, extractor=request.extractor or None, device=request.device or None, seed=seed,
            part=request.part,
        )
    beat.raise_if_cancelled()
    store.save_result(job_id, result)
    store.set_status(job_id, JobStatus.FINISHED)
    return JobStatus.FINISHED


def _load_benchmark(request: EvaluationRequest) -> BuiltBenchmark:
    try:
        built = load_built(request.slug, request.data_root)
    except (FileNotFoundError, ValueError):
        logger.exception("benchmark %s is not usable under %s", request.slug, request.data_root)
        raise JobError(
            f"the benchmark {request.slug!r} is not built on this worker; the worker's log has the details"
        ) from None
    if request.protocol_hash and built.protocol_hash != request.protocol_hash:
        raise JobError(
            f"the benchmark {request.slug!r} built on this worker has protocol "
            f"{built.protocol_hash[:12]}, but the submission was made for protocol {request.protocol_hash[:12]}; "
            "resubmit to the current protocol"
        )
    try:
        return built.part(request.part)
    except ValueError as exc:
        raise JobError(str(exc)) from None


def _statistics_seed(built: BuiltBenchmark, data_root: Path) -> int:
    """The keyed seed of the result's public intervals (``evaluator.scoring.server_statistics_seed``)."""
    try:
        return server_statistics_seed(built.protocol_hash, data_root, built.keyed)
    except (StatisticsSecretError, BuildSecretError) as exc:
        logger.error("%s", exc)
        raise JobError("the evaluator's build secret is missing or unusable; the worker's log has the details"
                       ) from None


def _run_container(
    request: EvaluationRequest,
    store: JobStore,
    runner: Runner,
    built: BuiltBenchmark,
    scratch: Path,
    output_dir: Path,
    beat: "_Heartbeat",
) -> str:
    """Run the submission; returns ``finished`` to go on scoring, or the job's final status.

    The spec's limits are fitted to the runner's host first; a host that
    cannot meet a hard requirement fails the job before anything runs.
    """
    host = runner.host_resources()
    try:
        limits = fit_limits(built.spec.limits, host, benchmark=request.slug)
    except HostCannotRun as exc:
        raise JobError(str(exc)) from None
    record_run_info = getattr(store, "set_run_info", None)
    if record_run_info is not None:
        record_run_info(request.job_id, limits_record(limits, host), host.to_json())
    input_dir = prepare_input(built, scratch / "input")

    def show_log(text: str) -> None:
        store.set_log_tail(request.job_id, text[-request.log_tail_chars:])

    run = runner.run(input_dir, output_dir, limits, cancel=beat.cancel, heartbeat=beat.pulse, on_log=show_log)
    show_log(run.log_tail)
    if run.image_digest:
        store.set_status(request.job_id, JobStatus.RUNNING, image_digest=run.image_digest)
    if beat.cancel.is_set() or run.status == RunOutcome.CANCELLED:
        raise JobCancelled()
    if run.status == RunOutcome.FINISHED:
        return JobStatus.FINISHED
    final = job_status_of(run.status)
    store.set_status(request.job_id, final, reason=run_reason(run, limits))
    return final


def run_reason(run: RunResult, limits: RunLimits) -> str:
    """The submitter's explanation of a run that did not finish (the runner's own words first)."""
    if run.reason:
        return run.reason
    if run.status == RunOutcome.TIMED_OUT:
        return timeout_reason(limits)
    if run.status == RunOutcome.OUT_OF_MEMORY:
        return memory_reason(limits)
    if run.status == RunOutcome.OUTPUT_TOO_LARGE:
        over = OutputCheck(limits.output_bytes + 1, 0, None)
        return output_size_reason("/output", over, limits.output_mb)
    return f"the submission ended with status {run.status!r} (exit code {run.exit_code})"


def _archive_limits(built: BuiltBenchmark) -> ArchiveLimits:
    return ArchiveLimits(
        max_files=len(input_items(built)) + EXTRA_ARCHIVE_MEMBERS,
        max_bytes=int(built.spec.limits.output_mb * MEGABYTE),
    )


class _Heartbeat:
    """Beats the job's heartbeat and polls for cancellation on a background thread."""

    def __init__(self, store: JobStore, job_id: str, interval_s: float) -> None:
        self.store = store
        self.job_id = job_id
        self.interval_s = max(float(interval_s), 0.05)
        self.cancel = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"heartbeat-{job_id}", daemon=True)
        self._last_pulse = 0.0

    def __enter__(self) -> "_Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval_s * 4 + 5)

    def pulse(self) -> None:
        """For runners: a liveness signal between beats (cheap; rate-limited to one write per interval)."""
        now = time.monotonic()
        if now - self._last_pulse >= self.interval_s:
            self._last_pulse = now
            self._beat_once()

    def raise_if_cancelled(self) -> None:
        if self.cancel.is_set() or self.store.is_cancelled(self.job_id):
            self.cancel.set()
            raise JobCancelled()

    def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                self._beat_once()
                self._stop.wait(self.interval_s)
        finally:
            self.store.end_thread()

    def _beat_once(self) -> None:
        try:
            self.store.heartbeat(self.job_id)
            if self.store.is_cancelled(self.job_id):
                self.cancel.set()
        except Exception:
            logger.warning(
                "heartbeat of job %s failed; retrying in %.1f s", self.job_id, self.interval_s, exc_info=True
            )
