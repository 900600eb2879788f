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
"""

from __future__ import annotations

import logging
import stat
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from datasets.build import BuiltBenchmark, load_built
from evaluator.runners.base import RunLimits, Runner, RunnerError, RunResult

if TYPE_CHECKING:
    from evaluator.scoring import EvaluationResult

logger = logging.getLogger(__name__)

QUEUED, RUNNING, SCORING = "queued", "running", "scoring"
FINISHED, FAILED, TIMED_OUT, OUT_OF_MEMORY, CANCELLED = "finished", "failed", "timed_out", "out_of_memory", "cancelled"
FINAL_STATUSES = (FINISHED, FAILED, TIMED_OUT, OUT_OF_MEMORY, CANCELLED)
KINDS = ("image", "tarball", "predictions", "local")
MEGABYTE = 1024 * 1024

# Predictions archives: more than this many members beyond the expected outputs is refused,
# and so is any member that claims to inflate more than MAX_COMPRESSION_RATIO-fold.
EXTRA_ARCHIVE_MEMBERS = 16
MAX_COMPRESSION_RATIO = 200
RATIO_CHECK_MIN_BYTES = MEGABYTE


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
    predictions submission (no container runs).
    """

    job_id: str
    slug: str
    kind: str
    data_root: Path
    protocol_hash: str = ""
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
        """Replace the job's captured log tail."""

    def end_thread(self) -> None:
        """Called by the job's heartbeat thread before it exits, to release per-thread resources."""


@dataclass
class MemoryJobStore:
    """A job store in a dict: for the dev kit and for running jobs without a database."""

    statuses: dict[str, str] = field(default_factory=dict)
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: dict[str, EvaluationResult] = field(default_factory=dict)
    logs: dict[str, str] = field(default_factory=dict)
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

    def end_thread(self) -> None:
        return None

    def cancel(self, job_id: str) -> None:
        self.cancelled.add(job_id)
        self.statuses[job_id] = CANCELLED


def run_evaluation(request: EvaluationRequest, store: JobStore, runner: Runner | None = None) -> str:
    """Evaluate one submission end to end; returns the final status (never raises for job errors)."""
    from evaluator.validation import OutputError

    job_id = request.job_id
    try:
        with _Heartbeat(store, job_id, request.heartbeat_interval_s) as beat:
            return _evaluate(request, store, runner, beat)
    except JobCancelled:
        store.set_status(job_id, CANCELLED, reason="cancelled on request")
        return CANCELLED
    except (JobError, OutputError) as exc:
        store.set_status(job_id, FAILED, reason=str(exc))
        return FAILED
    except RunnerError as exc:
        store.set_status(job_id, FAILED, reason=f"the evaluator could not run the submission: {exc}")
        return FAILED
    except Exception as exc:
        logger.exception("evaluation job %s failed", job_id)
        store.set_status(job_id, FAILED, reason=f"evaluation error: {type(exc).__name__}: {exc}")
        return FAILED


def _evaluate(request: EvaluationRequest, store: JobStore, runner: Runner | None, beat: "_Heartbeat") -> str:
    from evaluator.scoring import score_outputs

    job_id = request.job_id
    if request.kind not in KINDS:
        raise JobError(f"unknown submission kind {request.kind!r} (expected one of {', '.join(KINDS)})")
    store.set_status(job_id, RUNNING)
    built = _load_benchmark(request)
    work_root = Path(request.work_root) if request.work_root else None
    if work_root is not None:
        work_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"toonbench-job-{job_id}-", dir=work_root) as scratch:
        output_dir = Path(scratch) / "output"
        output_dir.mkdir()
        if request.kind == "predictions":
            if request.predictions is None:
                raise JobError("predictions submission without an archive")
            extract_predictions(request.predictions, output_dir, _archive_limits(built))
        else:
            if runner is None:
                raise JobError(f"no runner configured for {request.kind!r} submissions")
            status = _run_container(request, store, runner, built, Path(scratch), output_dir, beat)
            if status != FINISHED:
                return status
        beat.raise_if_cancelled()
        store.set_status(job_id, SCORING)
        result = score_outputs(
            built, output_dir, extractor=request.extractor or None, device=request.device or None
        )
    beat.raise_if_cancelled()
    store.save_result(job_id, result)
    store.set_status(job_id, FINISHED)
    return FINISHED


def _load_benchmark(request: EvaluationRequest) -> BuiltBenchmark:
    try:
        built = load_built(request.slug, request.data_root)
    except (FileNotFoundError, ValueError) as exc:
        raise JobError(f"benchmark data unavailable on this worker: {exc}") from None
    if request.protocol_hash and built.protocol_hash != request.protocol_hash:
        raise JobError(
            f"the benchmark {request.slug!r} built under {request.data_root} has protocol "
            f"{built.protocol_hash[:12]}, but the submission was made for protocol {request.protocol_hash[:12]}; "
            "resubmit to the current protocol"
        )
    return built


def _run_container(
    request: EvaluationRequest,
    store: JobStore,
    runner: Runner,
    built: BuiltBenchmark,
    scratch: Path,
    output_dir: Path,
    beat: "_Heartbeat",
) -> str:
    """Run the submission; returns FINISHED to go on scoring, or the job's final status."""
    from evaluator.contract import prepare_input

    input_dir = prepare_input(built, scratch / "input")
    limits = RunLimits.from_spec(built.spec.limits)
    run = runner.run(input_dir, output_dir, limits, cancel=beat.cancel, heartbeat=beat.pulse)
    store.set_log_tail(request.job_id, run.log_tail[-request.log_tail_chars:])
    if run.image_digest:
        store.set_status(request.job_id, RUNNING, image_digest=run.image_digest)
    if beat.cancel.is_set() or run.status == CANCELLED:
        raise JobCancelled()
    if run.status == FINISHED:
        return FINISHED
    final = run.status if run.status in (TIMED_OUT, OUT_OF_MEMORY) else FAILED
    store.set_status(request.job_id, final, reason=run_reason(run, limits))
    return final


def run_reason(run: RunResult, limits: RunLimits) -> str:
    """The submitter's explanation of a run that did not finish (the runner's own words first)."""
    if run.reason:
        return run.reason
    if run.status == TIMED_OUT:
        return f"the submission ran longer than the benchmark's limit of {limits.timeout_s:g} s"
    if run.status == OUT_OF_MEMORY:
        return f"the submission ran out of memory (limit {limits.memory_gb:g} GB)"
    if run.status == "output_too_large":
        return f"the submission wrote more than the benchmark's limit of {limits.output_mb:g} MB to /output"
    return f"the submission ended with status {run.status!r} (exit code {run.exit_code})"


@dataclass(frozen=True)
class ArchiveLimits:
    max_files: int
    max_bytes: int
    max_ratio: float = MAX_COMPRESSION_RATIO


def _archive_limits(built: BuiltBenchmark) -> ArchiveLimits:
    from evaluator.contract import input_items

    return ArchiveLimits(
        max_files=len(input_items(built)) + EXTRA_ARCHIVE_MEMBERS,
        max_bytes=int(built.spec.limits.output_mb * MEGABYTE),
    )


def extract_predictions(archive: Path, output_dir: Path, limits: ArchiveLimits) -> list[Path]:
    """Unpack a predictions zip into ``output_dir`` safely; returns the written files.

    Refused, with a reason naming the member: not a zip, encrypted members,
    absolute paths or ``..`` (path traversal), links, more members than the
    benchmark needs, a total uncompressed size over ``limits.output_mb``, a
    member inflating more than ``max_ratio``-fold (zip bomb). Sizes are
    counted on the actual bytes written, not only on the headers. One common
    top-level folder (``output/scores.npy``) is stripped.
    """
    archive = Path(archive)
    try:
        bundle = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as exc:
        raise JobError(f"{archive.name}: not a readable zip archive ({exc})") from None
    with bundle:
        members = [info for info in bundle.infolist() if not info.is_dir()]
        _check_members(members, limits, archive.name)
        prefix = _common_folder([info.filename for info in members])
        written: list[Path] = []
        total = 0
        for info in members:
            relative = PurePosixPath(info.filename).relative_to(prefix) if prefix else PurePosixPath(info.filename)
            target = output_dir.joinpath(*relative.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            total = _copy_member(bundle, info, target, total, limits, archive.name)
            written.append(target)
    return written


def _check_members(members: list[zipfile.ZipInfo], limits: ArchiveLimits, name: str) -> None:
    if not members:
        raise JobError(f"{name}: the archive is empty")
    if len(members) > limits.max_files:
        raise JobError(f"{name}: {len(members)} files in the archive, expected at most {limits.max_files}")
    declared = sum(info.file_size for info in members)
    if declared > limits.max_bytes:
        raise JobError(
            f"{name}: unpacks to {declared / MEGABYTE:.1f} MB, over the limit of {limits.max_bytes / MEGABYTE:g} MB"
        )
    seen: set[str] = set()
    for info in members:
        path = PurePosixPath(info.filename)
        if "\\" in info.filename or path.is_absolute() or ".." in path.parts or ":" in info.filename:
            raise JobError(f"{name}: member {info.filename!r} has an unsafe path (absolute, '..' or drive)")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise JobError(f"{name}: member {info.filename!r} is a link; only plain files are allowed")
        if info.flag_bits & 0x1:
            raise JobError(f"{name}: member {info.filename!r} is encrypted")
        if info.filename in seen:
            raise JobError(f"{name}: member {info.filename!r} appears twice")
        seen.add(info.filename)
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= RATIO_CHECK_MIN_BYTES and ratio > limits.max_ratio:
            raise JobError(
                f"{name}: member {info.filename!r} inflates {ratio:.0f}-fold (limit {limits.max_ratio:g}); "
                "refusing a possible zip bomb"
            )


def _common_folder(names: list[str]) -> PurePosixPath | None:
    """The one top-level folder every member sits in, if there is one."""
    tops = {PurePosixPath(name).parts[0] for name in names}
    if len(tops) == 1 and all(len(PurePosixPath(name).parts) > 1 for name in names):
        return PurePosixPath(tops.pop())
    return None


def _copy_member(
    bundle: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, total: int, limits: ArchiveLimits, name: str
) -> int:
    with bundle.open(info) as source, open(target, "wb") as sink:
        while chunk := source.read(MEGABYTE):
            total += len(chunk)
            if total > limits.max_bytes:
                raise JobError(
                    f"{name}: unpacks to more than the limit of {limits.max_bytes / MEGABYTE:g} MB "
                    f"(stopped at {info.filename!r})"
                )
            sink.write(chunk)
    return total


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
