"""Each baseline is described by the ``baseline.yaml`` in its folder; its paper is its benchmark spec's."""

from __future__ import annotations

from pathlib import Path

import pytest

from baselines.registry import PACKAGE_ROOT, BaselineError, all_baselines, discover_baselines, get_baseline
from datasets.registry import RegistryError
from datasets.spec import load_spec

GOOD = """\
name: pets-resnet
benchmark: pets
method: ResNet
needs_training: true
output: scores
summary: A ResNet.
"""


def write(root: Path, folder: str, text: str) -> Path:
    (root / folder).mkdir(parents=True)
    path = root / folder / "baseline.yaml"
    path.write_text(text)
    return path


def test_every_folder_with_a_method_is_a_baseline_and_nothing_else_is() -> None:
    folders = {path.parent.name for path in PACKAGE_ROOT.glob("*/method.py")}
    assert {baseline.package for baseline in all_baselines()} == folders
    assert {baseline.name.replace("-", "_") for baseline in all_baselines()} == folders


@pytest.mark.parametrize("slug", ["toonnet", "illustration", "icartoonface", "cartoonization"])
def test_the_paper_shown_with_a_baseline_is_its_benchmarks(slug: str) -> None:
    paper = load_spec(slug).paper
    for baseline in all_baselines():
        if baseline.benchmark == slug:
            assert (baseline.paper_title, baseline.paper_url) == (paper.title, paper.url)
            assert baseline.to_dict()["paper_url"] == paper.url


def test_a_folder_with_a_baseline_yaml_is_found_by_its_name(tmp_path: Path) -> None:
    write(tmp_path, "pets_resnet", GOOD)
    found = discover_baselines(tmp_path)
    assert found.names() == ["pets-resnet"]
    baseline = found.get("pets-resnet")
    assert (baseline.package, baseline.benchmark, baseline.needs_training, baseline.output) == ("pets_resnet", "pets", True, "scores")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD.replace("method: ResNet\n", ""), "method: Field required"),
        (GOOD + "colour: red\n", "colour: unknown key"),
        (GOOD.replace("needs_training: true", "needs_training: maybe"), "needs_training: Input should be a valid boolean"),
        (GOOD.replace("name: pets-resnet", "name: Pets ResNet"), "name: String should match pattern"),
        ("- just\n- a list\n", "(top level): Input should be a valid dictionary"),
        ("name: [unclosed\n", "not valid YAML"),
    ],
    ids=["missing field", "unknown key", "wrong type", "bad name", "not a mapping", "bad yaml"],
)
def test_a_bad_baseline_yaml_is_refused_naming_the_file_and_field(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, "broken", text)
    with pytest.raises(BaselineError) as caught:
        discover_baselines(tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and expected in message
    assert "\n" not in message


def test_two_folders_claiming_one_name_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "first", GOOD)
    write(tmp_path, "second", GOOD)
    with pytest.raises(RegistryError, match="baseline 'pets-resnet' is registered twice"):
        discover_baselines(tmp_path)


def test_a_baseline_runs_on_any_benchmark_of_its_task_only() -> None:
    resnet = get_baseline("toonnet-resnet")
    assert resnet.runs_on(load_spec("illustration")) and resnet.runs_on(load_spec("toonnet"))
    assert not resnet.runs_on(load_spec("icartoonface"))
