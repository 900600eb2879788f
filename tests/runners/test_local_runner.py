"""LocalRunner: trusted commands as plain processes, same contract (no Docker needed)."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import pytest

from evaluator.runners import LocalRunner, RunLimits, make_runner

LIMITS = RunLimits(timeout_s=10, memory_gb=1, cpus=1, pids=64, gpus=0, output_mb=1)


def wait_until_gone(pid: int, within_s: float) -> bool:
    """True once ``pid`` no longer runs (gone, or a zombie waiting for its new parent to reap it)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


@pytest.fixture()
def input_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "input"
    (folder / "images").mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"task": "classification", "items": [], "classes": ["a", "b"]}))
    return folder


def test_it_points_the_command_at_its_folders(input_dir, tmp_path):
    code = (
        "import os, sys, json\n"
        "json.dump({'env_in': os.environ['TOONBENCH_INPUT'], 'env_out': os.environ['TOONBENCH_OUTPUT'],"
        " 'arg_in': sys.argv[1], 'arg_out': sys.argv[2], 'extra': os.environ['EXTRA']},"
        " open(os.path.join(os.environ['TOONBENCH_OUTPUT'], 'seen.json'), 'w'))"
    )
    runner = make_runner("local", command=python(code) + ["{input}", "{output}"], env={"EXTRA": "yes"})

    result = runner.run(input_dir, tmp_path / "output", LIMITS)

    assert result.status == "finished", result
    seen = json.loads((tmp_path / "output" / "seen.json").read_text())
    expected_in, expected_out = str(input_dir.resolve()), str((tmp_path / "output").resolve())
    assert seen == {
        "env_in": expected_in,
        "env_out": expected_out,
        "arg_in": expected_in,
        "arg_out": expected_out,
        "extra": "yes",
    }
    assert result.image_digest is None


def test_it_reports_the_exit_code_and_the_log_tail(input_dir, tmp_path):
    runner = LocalRunner(python("import sys; print('bad input', file=sys.stderr); sys.exit(5)"))

    result = runner.run(input_dir, tmp_path / "output", LIMITS)

    assert (result.status, result.exit_code) == ("failed", 5)
    assert "bad input" in result.log_tail
    assert "status 5" in result.reason


def test_it_kills_the_whole_process_group_at_the_time_limit(input_dir, tmp_path):
    pid_file = tmp_path / "child.pid"
    code = (
        "import subprocess, sys, time\n"
        f"child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)"
    )
    limits = RunLimits(timeout_s=1.5, memory_gb=1, cpus=1, pids=64, gpus=0, output_mb=1)
    started = time.monotonic()

    result = LocalRunner(python(code)).run(input_dir, tmp_path / "output", limits)

    assert result.status == "timed_out"
    assert 1.5 <= result.duration_s < 4 and time.monotonic() - started < 6
    child = int(pid_file.read_text())
    assert wait_until_gone(child, within_s=3), f"process {child} outlived the run"


def test_it_rejects_output_past_the_cap_and_clears_it(input_dir, tmp_path):
    code = "import os; open(os.path.join(os.environ['TOONBENCH_OUTPUT'], 'big.bin'), 'wb').write(b'x' * 2_000_000)"

    result = LocalRunner(python(code)).run(input_dir, tmp_path / "output", LIMITS)

    assert result.status == "output_too_large"
    assert "limit of 1 MB" in result.reason
    assert list((tmp_path / "output").iterdir()) == []


def test_it_rejects_a_symbolic_link_in_the_output(input_dir, tmp_path):
    code = "import os; os.symlink('/etc/passwd', os.path.join(os.environ['TOONBENCH_OUTPUT'], 'scores.npy'))"

    result = LocalRunner(python(code)).run(input_dir, tmp_path / "output", LIMITS)

    assert result.status == "failed"
    assert "scores.npy: symbolic links are not allowed" in result.reason


def test_cancelling_stops_the_command(input_dir, tmp_path):
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    beats: list[float] = []

    result = LocalRunner(python("import time; time.sleep(60)"), heartbeat_interval_s=0.1).run(
        input_dir, tmp_path / "output", LIMITS, cancel=cancel, heartbeat=lambda: beats.append(time.monotonic())
    )

    assert result.status == "cancelled"
    assert result.duration_s < 5
    assert len(beats) >= 3


def test_it_keeps_a_bounded_log_tail(input_dir, tmp_path):
    code = "import sys\nfor i in range(100_000): print('line', i)\nprint('the end')"
    limits = RunLimits(timeout_s=10, memory_gb=1, cpus=1, pids=64, gpus=0, output_mb=1, log_tail_bytes=1000)

    result = LocalRunner(python(code)).run(input_dir, tmp_path / "output", limits)

    assert result.status == "finished"
    assert len(result.log_tail.encode()) <= 1000
    assert result.log_tail.endswith("line 99999\nthe end\n")


def test_it_refuses_a_command_that_does_not_exist(input_dir, tmp_path):
    result = LocalRunner(["/nonexistent/predict"]).run(input_dir, tmp_path / "output", LIMITS)

    assert result.status == "failed"
    assert "/nonexistent/predict" in result.reason


def test_an_unknown_runner_kind_lists_the_known_ones():
    with pytest.raises(KeyError, match="known: docker, local"):
        make_runner("dokcer")
