"""The registry and its types for ``evaluator.tasks``; the package imports its registering modules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datasets.build import BuiltBenchmark
from datasets.manifest import ManifestItem
from datasets.registry import Registry
from datasets.spec_models import BenchmarkSpec


@dataclass(frozen=True)
class TaskWords:
    """What the site and the bundle README say of a task, in a participant's words."""

    title: str
    """The task's name on the site (``Classification``)."""
    summary: str
    """The task in a phrase, for the README (``image classification``)."""
    input: str
    """One input and what the submission does with it (site)."""
    output: str
    """The output files in one line (site)."""
    container_inputs: str
    """What ``/input/manifest.json`` holds besides ids and paths (README)."""
    scoring: str
    """How outputs are compared with the truth (README)."""


@dataclass(frozen=True)
class ScoringOptions:
    """Choices a scorer may make that change no protocol: feature extractor and device."""

    extractor: str | None = None
    device: str | None = None


Evidences = dict[str, Any]
"""Evidence kind (a metric's ``evidence``) -> the evidence its metrics reduce."""


def every_item(item: ManifestItem) -> bool:
    return True


def no_item(item: ManifestItem) -> bool:
    return False


def no_document_fields(spec: BenchmarkSpec) -> dict[str, Any]:
    return {}


def no_samples(built: BuiltBenchmark) -> list[ManifestItem]:
    return []


def no_spec_problem(spec: BenchmarkSpec) -> tuple[str, str] | None:
    return None


@dataclass(frozen=True)
class StarterCode:
    """The task's half of a starting ``predict.py`` (``evaluator.starter_kit`` adds the shared head) and what it writes."""

    writes: str
    body: str


@dataclass(frozen=True)
class TaskType:
    """One task type.

    ``is_input`` picks the test items a container receives and
    ``is_reference`` those that stay with the evaluator as reference material
    (translation: photos in, cartoons are the FID reference). ``truth_field``
    is the manifest field that holds an item's truth; ``item_fields`` are the
    manifest fields that are not truth and go with each input (faces: the
    box); ``document_fields`` adds task fields to ``/input/manifest.json``
    (classification: ``classes``). ``expected_outputs(built, count)`` says
    what ``/output`` must hold; ``load_outputs(built, output_dir, inputs)``
    checks and loads it (``OutputError`` otherwise); ``evidence(built,
    loaded, inputs, references, options)`` returns the evidence per kind and
    the feature extractor's record (or None). ``figures`` names the figures
    of ``evaluator.plots`` a result of this task offers. ``check_spec``
    returns ``(field, problem)`` for a spec this task cannot run, else None.
    ``readme_sizes(built, inputs)`` writes the README's split lines.
    ``starter`` is the task's starting code for participants' kits.
    """

    name: str
    words: TaskWords
    truth_field: str
    expected_outputs: Callable[[BuiltBenchmark, int], dict[str, Any]]
    load_outputs: Callable[[BuiltBenchmark, Path, list[ManifestItem]], Any]
    evidence: Callable[..., tuple[Evidences, dict[str, Any] | None]]
    readme_sizes: Callable[[BuiltBenchmark, list[ManifestItem]], list[str]]
    is_input: Callable[[ManifestItem], bool] = every_item
    is_reference: Callable[[ManifestItem], bool] = no_item
    item_fields: tuple[str, ...] = ()
    document_fields: Callable[[BenchmarkSpec], dict[str, Any]] = no_document_fields
    check_spec: Callable[[BenchmarkSpec], tuple[str, str] | None] = no_spec_problem
    figures: tuple[str, ...] = ()
    starter: StarterCode | None = None
    # Public training inputs a finished entry is run on once more, so everyone sees what it does (``evaluator.samples``).
    sample_inputs: Callable[[BuiltBenchmark], list[ManifestItem]] = no_samples

    @property
    def shows_samples(self) -> bool:
        return self.sample_inputs is not no_samples

    def inputs(self, built: BuiltBenchmark) -> list[ManifestItem]:
        """The test items a container receives, sorted by id."""
        return sorted((item for item in built.test_items() if self.is_input(item)), key=lambda item: item.id)

    def references(self, built: BuiltBenchmark) -> list[ManifestItem]:
        """The test items kept as reference material, never an input, sorted by id."""
        return sorted((item for item in built.test_items() if self.is_reference(item)), key=lambda item: item.id)

    def input_entry(self, item: ManifestItem, path: str) -> dict[str, Any]:
        """One item as a container (and the public manifest) may see it: id, path and the task's item fields."""
        entry: dict[str, Any] = {"id": item.id, "path": path}
        for name in self.item_fields:
            value = getattr(item, name)
            if value is not None:
                entry[name] = [int(v) for v in value] if isinstance(value, tuple) else value
        return entry


TASKS: Registry[TaskType] = Registry("task")


def register_task(task: TaskType) -> TaskType:
    return TASKS.add(task.name, task)


def task_of(spec: BenchmarkSpec) -> TaskType:
    return TASKS.get(spec.task)
