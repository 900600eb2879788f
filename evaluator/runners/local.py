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
    EndedRun,
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
    judge_run,
    prepare_output_folder,
    register_runner,
    watch_run,
)
from evaluator.status import RunOutcome
from evaluator.runners.host import HostResources, local_host

OUTPUT_CHECK_S = 1.0
TERMINATE_GRACE_S = 2.0


@register_runner("local")
class LocalRunner(Runner):
    runs = "command"

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
            return RunResult(RunOutcome.FAILED, None, "", 0.0, None, f"could not start {self.command[0]!r}: {exc}")
        reader = threading.Thread(target=_copy_stream, args=(process.stdout, log), daemon=True)
        reader.start()
        try:
            pacers = (Pacer(heartbeat, self.heartbeat_interval_s), LogPacer(on_log, log, self.log_interval_s))
            ended_by = self._watch(process, output_dir, limits, cancel, pacers)
        finally:
            _kill_group(process)
            reader.join(timeout=5)
        ended = EndedRun(ended_by, process.returncode, False, log.text(), time.monotonic() - started)
        run = judge_run(ended, output_dir, limits, self.runs)
        if run.status == RunOutcome.OUTPUT_TOO_LARGE:
            empty_folder(output_dir)
        return run

    def _watch(
        self,
        process: subprocess.Popen[bytes],
        output_dir: Path,
        limits: RunLimits,
        cancel: threading.Event | None,
        pacers: tuple[Pacer, LogPacer],
    ) -> RunOutcome | None:
        """Wait for the process (``watch_run``); returns what ended it early, or None."""

        def has_exited(timeout_s: float) -> bool:
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                return False
            return True

        def output_full() -> bool:
            return inspect_output(output_dir, limits.output_bytes).too_large(limits.output_bytes)

        ended_by = watch_run(has_exited, limits, cancel, pacers, output_full, OUTPUT_CHECK_S)
        if ended_by == RunOutcome.CANCELLED:
            _terminate_group(process)
        return ended_by


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
