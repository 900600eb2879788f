"""The whole check of a benchmark spec: its data side, its task and its metrics.

``datasets.spec.load_spec`` checks what building needs (adapter, generator,
split method and their parameters). What only the evaluator knows is checked
here: the task is a registered task type and the spec suits it
(``TaskType.check_spec``), and every metric is registered, applies to the
task, takes the given parameters and states its true direction. The site and
the dev kit load specs through ``load_spec`` below; problems are
``SpecError``s naming the file, the field and what was expected.
"""

from __future__ import annotations

from pathlib import Path

from datasets.spec import SpecError, available_slugs, validate_params
from datasets.spec_models import BenchmarkSpec
from datasets.spec import load_spec as load_data_spec
from evaluator.metrics import METRICS
from evaluator.tasks import TASKS


def load_spec(source: str | Path, profile: str = "default") -> BenchmarkSpec:
    """Load a spec by slug or path with every check, data side, task and metrics."""
    spec = load_data_spec(source, profile)
    check_spec(spec)
    return spec


def load_all_specs(profile: str = "default") -> list[BenchmarkSpec]:
    return [load_spec(slug, profile) for slug in available_slugs()]


def check_spec(spec: BenchmarkSpec) -> None:
    """The task and metric checks of an already loaded spec (``SpecError`` on the first problem)."""
    path = spec.source_path
    if spec.task not in TASKS:
        raise SpecError(path, "task", TASKS.unknown_message(spec.task))
    problem = TASKS.get(spec.task).check_spec(spec)
    if problem is not None:
        raise SpecError(path, *problem)
    for index, metric in enumerate(spec.metrics):
        field = f"metrics.{index}.fn"
        if metric.fn not in METRICS:
            raise SpecError(path, field, METRICS.unknown_message(metric.fn))
        definition = METRICS.get(metric.fn)
        validate_params(definition.params_model, metric.params, path, f"metrics.{index}")
        if spec.task not in definition.tasks:
            raise SpecError(path, field, f"metric {metric.fn!r} does not apply to task {spec.task!r}")
        if definition.higher_is_better is not None and metric.higher_is_better != definition.higher_is_better:
            direction = "higher" if definition.higher_is_better else "lower"
            raise SpecError(
                path, f"metrics.{index}.higher_is_better",
                f"{metric.fn!r} is better when {direction}; expected higher_is_better: "
                f"{str(definition.higher_is_better).lower()}",
            )
