"""The runner interface: run a submission on a prepared ``/input`` under limits.

Every runner obeys the container contract (DESIGN.md §3) and returns a
``RunResult`` whose ``status`` says how the run ended. Infrastructure
problems (no engine, an image that cannot be found or loaded) raise a
``RunnerError`` instead, so a job can tell "the submission failed" from "the
evaluator could not run it".
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
from typing import Any, ClassVar, Literal

from datasets.registry import Registry
from evaluator.folders import remove_tree

RunStatus = Literal["finished", "failed", "timed_out", "out_of_memory", "cancelled", "output_too_large"]
RUN_STATUSES: tuple[str, ...] = ("finished", "failed", "timed_out", "out_of_memory", "cancelled", "output_too_large")
MEGABYTE = 1024 * 1024
GIGABYTE = 1024 * MEGABYTE
DEFAULT_LOG_TAIL_BYTES = 64 * 1024
HEARTBEAT_INTERVAL_S = 5.0
LOG_INTERVAL_S = 2.0
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

    status: RunStatus
    exit_code: int | None
    log_tail: str
    duration_s: float
    image_digest: str | None
    reason: str

    @property
    def finished(self) -> bool:
        return self.status == "finished"


Heartbeat = Callable[[], None]
LogListener = Callable[[str], None]


class Runner(ABC):
    """Runs one submission: reads ``input_dir``, writes ``output_dir`` (created empty when missing)."""

    kind: ClassVar[str]

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
    def decorator(cls: type[Runner]) -> type[Runner]:
        cls.kind = kind
        RUNNERS.add(kind, cls)
        return cls

    return decorator


def make_runner(kind: str, **options: Any) -> Runner:
    """A runner by kind (``"docker"``, ``"local"``) built with its constructor's options."""
    import evaluator.runners  # noqa: F401  (registers the built-in runners)

    return RUNNERS.get(kind)(**options)


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


def output_too_large(check: OutputCheck, limit_bytes: int) -> bool:
    return check.total_bytes > limit_bytes or check.entries > MAX_OUTPUT_ENTRIES


def too_large_reason(check: OutputCheck, limits: RunLimits) -> str:
    if check.entries > MAX_OUTPUT_ENTRIES:
        return f"the submission wrote more than {MAX_OUTPUT_ENTRIES} files or folders to /output"
    return (
        f"the submission wrote at least {check.total_bytes / MEGABYTE:.1f} MB to /output, "
        f"over the benchmark's limit of {limits.output_mb:g} MB (limits.output_mb)"
    )


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
