"""Run a trusted command as a plain process (bundled baselines, hosts without Docker).

Same contract as the container runner, without the sandbox: the command sees
its folders through ``TOONBENCH_INPUT`` / ``TOONBENCH_OUTPUT`` (and
``{input}`` / ``{output}`` placeholders in its arguments). The wall-clock
limit kills the whole process group; the output cap is checked while it runs
and after it exits. Memory, network and pids are not limited: only run code
you trust this way.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from evaluator.runners.base import (
    HEARTBEAT_INTERVAL_S,
    LOG_INTERVAL_S,
    Heartbeat,
    LogListener,
    LogPacer,
    LogTail,
    Pacer,
    RunLimits,
    Runner,
    RunResult,
    empty_folder,
    inspect_output,
    output_too_large,
    prepare_output_folder,
    register_runner,
    too_large_reason,
)
from evaluator.runners.host import HostResources, local_host

POLL_S = 0.1
OUTPUT_CHECK_S = 1.0
TERMINATE_GRACE_S = 2.0


@register_runner("local")
class LocalRunner(Runner):
    def __init__(
        self,
        command: Sequence[str],
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        heartbeat_interval_s: float = HEARTBEAT_INTERVAL_S,
        log_interval_s: float = LOG_INTERVAL_S,
    ) -> None:
        if not command:
            raise ValueError("LocalRunner needs a command (a list of program and arguments)")
        self.command = [str(part) for part in command]
        self.env = dict(env or {})
        self.cwd = cwd
        self.heartbeat_interval_s = heartbeat_interval_s
        self.log_interval_s = log_interval_s
        self._host: HostResources | None = None

    def host_resources(self) -> HostResources:
        if self._host is None:
            self._host = local_host()
        return self._host

    def command_for(self, input_dir: Path, output_dir: Path) -> list[str]:
        return [part.replace("{input}", str(input_dir)).replace("{output}", str(output_dir)) for part in self.command]

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
        input_dir, output_dir = Path(input_dir).resolve(), prepare_output_folder(Path(output_dir)).resolve()
        env = {**os.environ, **self.env, "TOONBENCH_INPUT": str(input_dir), "TOONBENCH_OUTPUT": str(output_dir)}
        log = LogTail(limits.log_tail_bytes)
        started = time.monotonic()
        try:
            process = subprocess.Popen(
                self.command_for(input_dir, output_dir),
                cwd=self.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            return RunResult("failed", None, "", 0.0, None, f"could not start {self.command[0]!r}: {exc}")
        reader = threading.Thread(target=_copy_stream, args=(process.stdout, log), daemon=True)
        reader.start()
        try:
            pacers = (Pacer(heartbeat, self.heartbeat_interval_s), LogPacer(on_log, log, self.log_interval_s))
            ended_by = self._watch(process, output_dir, limits, cancel, pacers)
        finally:
            _kill_group(process)
            reader.join(timeout=5)
        duration = time.monotonic() - started
        return self._result(process.returncode, ended_by, log, duration, output_dir, limits)

    def _watch(
        self,
        process: subprocess.Popen[bytes],
        output_dir: Path,
        limits: RunLimits,
        cancel: threading.Event | None,
        pacers: tuple[Pacer, LogPacer],
    ) -> str | None:
        """Wait for the process; returns what ended it early ("timed_out", "cancelled", ...) or None."""
        deadline = time.monotonic() + limits.timeout_s
        next_output_check = time.monotonic() + OUTPUT_CHECK_S
        while process.poll() is None:
            for pacer in pacers:
                pacer.tick()
            now = time.monotonic()
            if cancel is not None and cancel.is_set():
                _terminate_group(process)
                return "cancelled"
            if now >= deadline:
                return "timed_out"
            if now >= next_output_check:
                next_output_check = now + OUTPUT_CHECK_S
                if output_too_large(inspect_output(output_dir, limits.output_bytes), limits.output_bytes):
                    return "output_too_large"
            time.sleep(POLL_S)
        return None

    def _result(
        self, code: int | None, ended_by: str | None, log: LogTail, duration: float, output_dir: Path, limits: RunLimits
    ) -> RunResult:
        tail = log.text()
        if ended_by == "cancelled":
            return RunResult("cancelled", code, tail, duration, None, "the run was cancelled")
        if ended_by == "timed_out":
            return RunResult(
                "timed_out", code, tail, duration, None, f"the run took longer than the limit of {limits.timeout_s:g} s"
            )
        check = inspect_output(output_dir, limits.output_bytes)
        if ended_by == "output_too_large" or output_too_large(check, limits.output_bytes):
            empty_folder(output_dir)
            return RunResult("output_too_large", code, tail, duration, None, too_large_reason(check, limits))
        if check.problem is not None:
            return RunResult("failed", code, tail, duration, None, check.problem)
        if code != 0:
            return RunResult("failed", code, tail, duration, None, f"the command exited with status {code}")
        return RunResult("finished", 0, tail, duration, None, "")


def _copy_stream(stream, log: LogTail) -> None:  # type: ignore[no-untyped-def]
    for chunk in iter(lambda: stream.read1(65536), b""):
        log.write(chunk)
    stream.close()


def _terminate_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the group, then give it a moment to exit before the final kill."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=TERMINATE_GRACE_S)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill everything the command started (it leads its own session), then reap it."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
