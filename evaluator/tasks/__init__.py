"""The task registry: one entry per task type owns everything that task means.

A spec names its task (``task: classification``); whatever differs between
task types is read from that task's ``TaskType`` entry, so the container
contract (``evaluator.contract``), the output check (``evaluator.validation``),
the scoring (``evaluator.scoring``), the figures (``evaluator.plots``), the
bundle README and the site's pages are plain loops over it. Adding a task
type is one module that calls ``register_task``, plus the components it
needs (a generator or adapter, a split method, metrics).

Why here and not in ``datasets``: all that a task owns but its name is about
outputs and scoring, which are the evaluator's. The data side (adapters,
generators, split methods) only names the tasks it serves, as strings, and
``datasets`` never imports this registry, so imports run evaluator ->
datasets. The task's own spec checks (``TaskType.check_spec``) run with the
metric checks in ``evaluator.specs``, the loader every caller that has the
evaluator uses.
"""

from evaluator.tasks.base import (
    Evidences, ScoringOptions, TASKS, TaskType, TaskWords, every_item, no_document_fields, no_item,
    no_spec_problem, register_task, task_of,
)
from evaluator.tasks import classification, identification_verification, translation  # noqa: F401  (registration)

__all__ = [
    "Evidences", "ScoringOptions", "TASKS", "TaskType", "TaskWords", "every_item",
    "no_document_fields", "no_item", "no_spec_problem", "register_task", "task_of",
]
