"""The build of an uploaded benchmark, as a Celery task on the ``maintenance`` queue.

The host watches ``Benchmark.build_state`` move queued -> building -> built
(or failed, with the reason in ``build_message``) on the benchmark's host page
and in the API. A redelivered message for a benchmark no longer queued does
nothing.
"""

from __future__ import annotations

from pathlib import Path

from celery import shared_task
from django.conf import settings

from benchmarks.models import Benchmark, BuildState
from benchmarks.sync import record_uploaded
from datasets.build import build_benchmark
from datasets.secret import ensure_build_secret
from evaluator.archives import one_line
from evaluator.specs import load_spec


@shared_task(name="benchmarks.tasks.build_uploaded_benchmark", ignore_result=True)
def build_uploaded_benchmark(benchmark_id: int) -> str:
    """Build an uploaded benchmark from its data (keyed by the site's build secret) and record its protocol."""
    claimed = Benchmark.objects.filter(pk=benchmark_id, build_state=BuildState.QUEUED).update(
        build_state=BuildState.BUILDING, build_message="building the benchmark from its data"
    )
    if not claimed:
        return "not queued"
    benchmark = Benchmark.objects.get(pk=benchmark_id)
    data_root = Path(settings.TOONBENCH_DATA_ROOT)
    try:
        spec = load_spec(benchmark.slug)
        built = build_benchmark(spec, data_root, source="real", force=True, secret=ensure_build_secret(data_root))
        report = record_uploaded(benchmark, spec, data_root)
    except Exception as exc:  # the host reads why, in one line, on their page
        _finish(benchmark_id, BuildState.FAILED, f"{type(exc).__name__}: {one_line(exc)}")
        return "failed"
    problems = report.not_built + report.stale
    if problems:
        _finish(benchmark_id, BuildState.FAILED, problems[0])
        return "failed"
    _finish(benchmark_id, BuildState.BUILT,
            f"built: {len(built.test_items())} test and {len(built.train_items())} training items, "
            f"protocol {built.protocol_hash[:12]}; publish it to show it to participants")
    return "built"


def _finish(benchmark_id: int, state: str, message: str) -> None:
    Benchmark.objects.filter(pk=benchmark_id).update(build_state=state, build_message=message[:500])
