"""The runner interface: run a submission on a prepared ``/input`` under limits.

Every runner obeys the container contract (DESIGN.md §3) and returns a
``RunResult`` whose ``status`` (a ``RunOutcome``) says how the run ended.
Infrastructure problems (no engine, an image that cannot be found or loaded)
raise a ``RunnerError`` instead, so a job can tell "the submission failed"
from "the evaluator could not run it".

What every runner shares lives here: ``watch_run`` (the wait loop that beats
the heartbeat, hands out the log, and stops a run at its limits),
``judge_run`` (the outcome and its reason, from how the run ended and what
its ``/output`` holds) and ``inspect_output``, the one walk of an output
folder that the runners and ``evaluator.output_files`` use. Each message
about a limit is written once, by ``timeout_reason``, ``memory_reason`` and
``output_size_reason``.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from datasets.registry import Registry
from evaluator.folders import remove_tree
from evaluator.status import RunOutcome

MEGABYTE = 1024 * 1024
GIGABYTE = 1024 * MEGABYTE
DEFAULT_LOG_TAIL_BYTES = 64 * 1024
HEARTBEAT_INTERVAL_S = 5.0
LOG_INTERVAL_S = 2.0
POLL_S = 0.1
MAX_OUTPUT_ENTRIES = 200_000
MAX_OUTPUT_DEPTH = 32


class RunnerError(RuntimeError):
    """The evaluator could not run the submission at all (not the submission's fault by itself)."""


class EngineUnavailable(RunnerError):
    """The container engine does not answer."""


class ImageUnavailable(RunnerError):
    """The submission image is missing, too large or unreadable."""


@dataclass(frozen=True)
class RunLimits:
    """What one run may use; ``from_spec`` takes them from a benchmark spec's ``limits``.

    ``gpu_ids`` names the devices to pass when the worker is pinned to
    device ids (``runners.host.fit_limits`` fills it); empty means "any
    ``gpus`` of the host's".
    """

    timeout_s: float
    memory_gb: float
    cpus: float
    pids: int
    gpus: int
    output_mb: float
    log_tail_bytes: int = DEFAULT_LOG_TAIL_BYTES
    gpu_ids: tuple[str, ...] = ()

    @classmethod
    def from_spec(cls, limits: Any, **overrides: Any) -> "RunLimits":
        """From ``BenchmarkSpec.limits`` (any object with the same attribute names)."""
        values = {
            "timeout_s": float(limits.timeout_s),
            "memory_gb": float(limits.memory_gb),
            "cpus": float(limits.cpus),
            "pids": int(limits.pids),
            "gpus": int(limits.gpus),
            "output_mb": float(limits.output_mb),
        }
        values.update(overrides)
        return cls(**values)

    @property
    def memory_bytes(self) -> int:
        return int(self.memory_gb * GIGABYTE)

    @property
    def output_bytes(self) -> int:
        return int(self.output_mb * MEGABYTE)


@dataclass(frozen=True)
class RunResult:
    """How a run ended. ``log_tail`` is the end of stdout+stderr (for the submitter only)."""

    status: RunOutcome
    exit_code: int | None
    log_tail: str
    duration_s: float
    image_digest: str | None
    reason: str


Heartbeat = Callable[[], None]
LogListener = Callable[[str], None]


class Runner(ABC):
    """Runs one submission: reads ``input_dir``, writes ``output_dir`` (created empty when missing)."""

    kind: ClassVar[str]
    runs: ClassVar[str] = "submission"
    """What runs, in the words of an exit message (``the submission exited with status 3``)."""

    @abstractmethod
    def run(
        self,
        input_dir: Path,
        output_dir: Path,
        limits: RunLimits,
        *,
        cancel: threading.Event | None = None,
        heartbeat: Heartbeat | None = None,
        on_log: LogListener | None = None,
    ) -> RunResult:
        """Run to the end, a limit, or ``cancel``.

        ``heartbeat`` is called every few seconds meanwhile, and ``on_log``
        (when given) with the log tail so far whenever it changed, at most
        every ``LOG_INTERVAL_S`` seconds.
        """

    @abstractmethod
    def host_resources(self) -> Any:
        """The ``runners.host.HostResources`` this runner's submissions run on."""


RUNNERS: Registry[type[Runner]] = Registry("runner")


def register_runner(kind: str) -> Callable[[type[Runner]], type[Runner]]:
    """Class decorator: the runner class under ``kind`` (and as its ``kind``)."""

    def named(cls: type[Runner]) -> type[Runner]:
        cls.kind = kind
        return cls

    return RUNNERS.register_with(kind, named)


class LogTail:
    """Keeps only the last ``limit`` bytes of a stream, however much is written."""

    def __init__(self, limit: int) -> None:
        self.limit = max(int(limit), 0)
        self.total_bytes = 0
        self._buffer = bytearray()
        self._lock = threading.Lock()

    def write(self, chunk: bytes) -> None:
        with self._lock:
            self.total_bytes += len(chunk)
            self._buffer += chunk[-self.limit :] if self.limit else b""
            if len(self._buffer) > self.limit:
                del self._buffer[: len(self._buffer) - self.limit]

    def text(self) -> str:
        """The tail as text, at most ``limit`` bytes in UTF-8, marked when the start was dropped."""
        with self._lock:
            data = bytes(self._buffer)
            dropped = self.total_bytes - len(data)
        marker = f"[... {dropped} earlier bytes of log omitted ...]\n".encode() if dropped > 0 else b""
        if len(marker) >= self.limit:
            marker = b""
        budget = self.limit - len(marker)
        body = data[len(data) - budget :].lstrip(bytes(range(0x80, 0xC0))) if dropped > 0 else data
        text = body.decode("utf-8", errors="replace")
        encoded = text.encode()
        if len(encoded) > budget:  # replacement characters are longer than the bytes they replace
            text = encoded[len(encoded) - budget :].decode("utf-8", errors="ignore")
        return marker.decode() + text


@dataclass(frozen=True)
class OutputCheck:
    """What an output folder holds: total bytes of regular files, entry count, and any problem."""

    total_bytes: int
    entries: int
    problem: str | None

    def too_large(self, limit_bytes: float) -> bool:
        return self.total_bytes > limit_bytes or self.entries > MAX_OUTPUT_ENTRIES


def inspect_output(output_dir: Path, limit_bytes: int) -> OutputCheck:
    """Walk ``output_dir`` without following links.

    Only plain files and folders are allowed: a symbolic link could point the
    evaluator at a host file, and a FIFO or socket would block a reader. The
    walk is iterative and bounded: it stops once the cap or
    ``MAX_OUTPUT_ENTRIES`` is passed, and folders nested deeper than
    ``MAX_OUTPUT_DEPTH`` are a problem, so no output can stall or crash it.
    Entries that vanish mid-walk (the submission may still be running) are skipped.
    """
    output_dir = Path(output_dir)
    total = entries = 0
    pending = [(output_dir, 0)]
    while pending:
        folder, depth = pending.pop()
        if depth > MAX_OUTPUT_DEPTH:
            return OutputCheck(total, entries, f"folders are nested more than {MAX_OUTPUT_DEPTH} deep in the output")
        try:
            with os.scandir(folder) as scan:
                listing = list(scan)
        except FileNotFoundError:
            continue
        except OSError:
            return OutputCheck(total, entries, f"{folder.relative_to(output_dir)}: folder is not readable")
        for entry in listing:
            try:
                info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            entries += 1
            problem = _entry_problem(Path(entry.path).relative_to(output_dir), info.st_mode)
            if problem is not None:
                return OutputCheck(total, entries, problem)
            if stat.S_ISDIR(info.st_mode):
                pending.append((Path(entry.path), depth + 1))
            else:
                total += info.st_size
            if total > limit_bytes or entries > MAX_OUTPUT_ENTRIES:
                return OutputCheck(total, entries, None)
    return OutputCheck(total, entries, None)


def _entry_problem(relative: Path, mode: int) -> str | None:
    if stat.S_ISLNK(mode):
        return f"{relative}: symbolic links are not allowed in the output"
    if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
        return f"{relative}: only regular files and folders are allowed in the output"
    return None


def output_size_reason(where: str, check: OutputCheck, output_mb: float, *, entry_cap_hit: bool = False) -> str:
    """Why an output folder is over the cap (``where`` names it: ``/output`` or the folder's path).

    Names the limit that was hit: the entry cap when ``check`` counts more
    entries than it allows or ``entry_cap_hit`` says a capped file system ran
    out of them, else the size cap.
    """
    if entry_cap_hit or check.entries > MAX_OUTPUT_ENTRIES:
        return (f"{where} holds more than {MAX_OUTPUT_ENTRIES} files and folders "
                f"(the limit is {MAX_OUTPUT_ENTRIES})")
    return (
        f"{where} holds {check.total_bytes / MEGABYTE:.1f} MB, "
        f"over the benchmark's limit of {output_mb:g} MB (limits.output_mb)"
    )


def timeout_reason(limits: RunLimits) -> str:
    return f"the submission ran longer than the limit of {limits.timeout_s:g} s and was stopped"


def memory_reason(limits: RunLimits) -> str:
    return f"the submission ran out of memory (limit {limits.memory_gb:g} GB) and was killed"


def empty_folder(folder: Path) -> None:
    """Delete everything inside ``folder``, whatever its depth and modes (links are removed, never followed)."""
    with os.scandir(folder) as scan:
        names = [entry.name for entry in scan]
    for name in names:
        remove_tree(Path(folder) / name)


def prepare_output_folder(output_dir: Path) -> Path:
    """Create ``output_dir`` (or check that it is empty): a run never mixes with earlier files."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    if any(output_dir.iterdir()):
        raise ValueError(f"{output_dir}: the output folder must be empty before a run")
    return output_dir


class LogPacer:
    """Hands the log tail to ``on_log`` at most every ``interval_s`` seconds, and only when it changed."""

    def __init__(self, on_log: LogListener | None, log: LogTail, interval_s: float = LOG_INTERVAL_S) -> None:
        self.on_log = on_log
        self.log = log
        self.interval_s = interval_s
        self._last = float("-inf")
        self._sent_bytes = 0

    def tick(self) -> None:
        now = time.monotonic()
        if self.on_log is None or now - self._last < self.interval_s or self.log.total_bytes == self._sent_bytes:
            return
        self._last = now
        self._sent_bytes = self.log.total_bytes
        self.on_log(self.log.text())


class Pacer:
    """Calls ``heartbeat`` at most every ``interval_s`` seconds; the first call happens at once."""

    def __init__(self, heartbeat: Heartbeat | None, interval_s: float = HEARTBEAT_INTERVAL_S) -> None:
        self.heartbeat = heartbeat
        self.interval_s = interval_s
        self._last = float("-inf")

    def tick(self) -> None:
        now = time.monotonic()
        if self.heartbeat is not None and now - self._last >= self.interval_s:
            self._last = now
            self.heartbeat()


def watch_run(
    has_exited: Callable[[float], bool],
    limits: RunLimits,
    cancel: threading.Event | None,
    pacers: tuple[Pacer, LogPacer],
    output_full: Callable[[], bool],
    output_check_s: float = 0.0,
) -> RunOutcome | None:
    """Wait for a run to exit; returns what ended it early, or None when it exited by itself.

    ``has_exited(timeout)`` waits up to ``timeout`` seconds for the exit;
    between waits the pacers tick, and the run ends on ``cancel``, at the
    deadline, or once ``output_full()`` (asked every ``output_check_s``
    seconds) says ``/output`` is over the cap. Stopping the run is the
    caller's part.
    """
    deadline = time.monotonic() + limits.timeout_s
    next_output_check = time.monotonic() + output_check_s
    while not has_exited(POLL_S):
        for pacer in pacers:
            pacer.tick()
        now = time.monotonic()
        if cancel is not None and cancel.is_set():
            return RunOutcome.CANCELLED
        if now >= deadline:
            return RunOutcome.TIMED_OUT
        if now >= next_output_check:
            next_output_check = now + output_check_s
            if output_full():
                return RunOutcome.OUTPUT_TOO_LARGE
    return None


@dataclass(frozen=True)
class EndedRun:
    """How a run ended, before its outcome is judged: what ended it early, exit code, OOM kill."""

    ended_by: RunOutcome | None
    exit_code: int | None
    oom_killed: bool
    log_tail: str
    duration_s: float
    image_digest: str | None = None


def judge_run(
    ended: EndedRun,
    output_dir: Path,
    limits: RunLimits,
    runs: str = "submission",
    *,
    output_full: bool = False,
    written_bytes: int = 0,
) -> RunResult:
    """The run's outcome and reason, judged on its ``/output``.

    ``output_full`` and ``written_bytes`` are what the runner saw of a capped
    ``/output`` file system (a file deleted while open counts there, though
    no folder walk sees it); the reason names the cap that was hit, entries or bytes.
    """

    def result(status: RunOutcome, reason: str = "") -> RunResult:
        return RunResult(status, ended.exit_code, ended.log_tail, ended.duration_s, ended.image_digest, reason)

    if ended.ended_by == RunOutcome.CANCELLED:
        return result(RunOutcome.CANCELLED, "the run was cancelled")
    if ended.ended_by == RunOutcome.TIMED_OUT:
        return result(RunOutcome.TIMED_OUT, timeout_reason(limits))
    if ended.oom_killed:
        return result(RunOutcome.OUT_OF_MEMORY, memory_reason(limits))
    check = inspect_output(output_dir, limits.output_bytes)
    if ended.ended_by == RunOutcome.OUTPUT_TOO_LARGE or check.too_large(limits.output_bytes) or output_full:
        seen = OutputCheck(max(check.total_bytes, written_bytes), check.entries, check.problem)
        # A capped /output has room for MAX_OUTPUT_ENTRIES entries and no more (capped_output.mount_options):
        # a full one holding that many ran out of entries, whatever its bytes.
        entry_cap_hit = output_full and check.entries >= MAX_OUTPUT_ENTRIES
        reason = output_size_reason("/output", seen, limits.output_mb, entry_cap_hit=entry_cap_hit)
        return result(RunOutcome.OUTPUT_TOO_LARGE, reason)
    if check.problem is not None:
        return result(RunOutcome.FAILED, check.problem)
    if ended.exit_code != 0:
        killed = " (killed)" if ended.exit_code == 137 else ""
        return result(RunOutcome.FAILED, f"the {runs} exited with status {ended.exit_code}{killed}")
    return RunResult(RunOutcome.FINISHED, 0, ended.log_tail, ended.duration_s, ended.image_digest, "")
