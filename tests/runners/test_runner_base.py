"""Runner building blocks that need no engine: limits from a spec, the bounded log tail."""

from __future__ import annotations

from datasets.spec import load_spec
from evaluator.runners import RunLimits
from evaluator.runners.base import LogTail


def test_it_takes_its_limits_from_a_benchmark_spec():
    spec_limits = load_spec("toonnet").limits

    limits = RunLimits.from_spec(spec_limits)

    assert (limits.timeout_s, limits.memory_gb, limits.cpus, limits.pids, limits.gpus, limits.output_mb) == (
        spec_limits.timeout_s,
        spec_limits.memory_gb,
        spec_limits.cpus,
        spec_limits.pids,
        spec_limits.gpus,
        spec_limits.output_mb,
    )
    assert limits.memory_bytes == int(spec_limits.memory_gb * 2**30)


def test_a_log_tail_never_grows_past_its_limit_even_with_broken_utf8():
    tail = LogTail(64)
    for _ in range(100):
        tail.write("é€😀 some text\n".encode() + b"\xff\xfe")

    text = tail.text()

    assert len(text.encode()) <= 64
    assert text.startswith("[... ")
    assert tail.total_bytes == 100 * len("é€😀 some text\n".encode() + b"\xff\xfe")
