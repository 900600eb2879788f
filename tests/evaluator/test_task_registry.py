"""The task registry owns what a task means: every spec's task is registered, nothing else branches on it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from datasets.spec import SpecError, available_slugs, spec_path
from datasets.spec_models import BenchmarkSpec
from evaluator.__main__ import main
from evaluator.specs import check_spec, load_spec
from evaluator.tasks import TASKS

REPO = Path(__file__).resolve().parents[2]
SOURCE_FOLDERS = ("datasets", "evaluator", "baselines", "platform", "toonbench_cli")
# A task name compared with a literal, looked up in a literal tuple, or used as a key of a table of its own.
TASK_BRANCH = re.compile(
    r"""\btask\s*(==|!=)\s*["']|["']\s*(==|!=)\s*[\w.]*\btask\b|\btask\s+(not\s+)?in\s*[(\[{]\s*["']"""
    r"""|\[[\w.]*\.task\]|(?<!TASKS)\.get\([\w.]*\.task\b"""
)
EVALUATOR_IMPORT = re.compile(r"^\s*(from|import)\s+evaluator\b", re.MULTILINE)


def source_files(*folders: str) -> list[Path]:
    return sorted(path for folder in folders for path in (REPO / folder).rglob("*.py") if "migrations" not in path.parts)


def test_every_benchmark_names_a_registered_task_with_all_its_words() -> None:
    assert TASKS.names() == ["classification", "identification_verification", "translation"]
    for slug in available_slugs():
        words = TASKS.get(load_spec(slug).task).words
        assert all(getattr(words, name).strip() for name in words.__dataclass_fields__), slug


def test_no_module_outside_the_task_modules_branches_on_a_task_name() -> None:
    tasks_folder = REPO / "evaluator" / "tasks"
    offenders = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in source_files(*SOURCE_FOLDERS) if tasks_folder not in path.parents
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if TASK_BRANCH.search(line)
    ]
    assert offenders == []


def test_datasets_never_imports_the_evaluator() -> None:
    offenders = [str(path.relative_to(REPO)) for path in source_files("datasets") if EVALUATOR_IMPORT.search(path.read_text())]
    assert offenders == []


def test_an_unregistered_task_is_refused_naming_the_field_and_the_known_tasks() -> None:
    document = yaml.safe_load(spec_path("toonnet").read_text())
    spec = BenchmarkSpec.model_validate({
        **{key: document[key] for key in ("slug", "title", "version", "classes", "leaderboard")},
        "task": "clasification", "source_path": "toy.yaml",
        "dataset": {"adapter": "folder_per_class", "synthetic": {"generator": "toon_objects"}},
        "split": {"method": "stratified"},
        "metrics": [{"name": name, "fn": "topk_error", "higher_is_better": False}
                    for name in (document["leaderboard"]["rank_by"],)],
    })
    with pytest.raises(SpecError) as caught:
        check_spec(spec)
    assert (caught.value.path, caught.value.field) == ("toy.yaml", "task")
    assert caught.value.problem == (
        "unknown task 'clasification'; did you mean 'classification'? "
        "(known: classification, identification_verification, translation)"
    )


def test_the_validate_command_checks_tasks_and_metrics(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = yaml.safe_load(spec_path("toonnet").read_text())
    document["metrics"][0]["fn"] = "cmc_rank"
    document["metrics"][0]["higher_is_better"] = True
    bad = tmp_path / "toonnet.yaml"
    bad.write_text(yaml.safe_dump(document))
    assert main(["validate", str(bad), str(spec_path("toonnet"))]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"{bad}: metrics.0.fn: metric 'cmc_rank' does not apply to task 'classification'",
        f"OK {spec_path('toonnet')}",
    ]
