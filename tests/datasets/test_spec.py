"""Spec loading: the four real specs load; bad specs are rejected with file, field and reason."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from datasets.__main__ import main
from datasets.spec import SpecError, spec_path
from evaluator.specs import load_spec

SLUGS = ["cartoonization", "icartoonface", "illustration", "toonnet"]


@pytest.mark.parametrize("profile", ["default", "tiny"])
@pytest.mark.parametrize("slug", SLUGS)
def test_every_benchmark_spec_loads_in_both_profiles(slug: str, profile: str) -> None:
    spec = load_spec(slug, profile)
    assert spec.slug == slug
    assert spec.profile == profile
    assert spec.rank_metric.name == spec.leaderboard.rank_by


def test_the_tiny_profile_overrides_only_what_it_names() -> None:
    default, tiny = load_spec("toonnet"), load_spec("toonnet", "tiny")
    default_params, tiny_params = default.dataset.synthetic.params, tiny.dataset.synthetic.params
    assert (default_params.per_class, default_params.size) == (300, 128)
    assert (tiny_params.per_class, tiny_params.size) == (20, 64)
    # the nuisances it names are merged over the default's, the rest kept
    assert (default_params.nuisances.lookalike, tiny_params.nuisances.lookalike) == (0.6, 0.3)
    assert tiny_params.nuisances.styles == default_params.nuisances.styles
    assert tiny_params.nuisances.degradations.jpeg_quality == default_params.nuisances.degradations.jpeg_quality
    assert (default_params.nuisances.degradations.jpeg, tiny_params.nuisances.degradations.jpeg) == (0.4, 0.2)
    assert tiny.split == default.split and tiny.metrics == default.metrics
    assert tiny.spec_hash() != default.spec_hash()


def test_the_protocols_follow_the_papers() -> None:
    toonnet, illustration = load_spec("toonnet"), load_spec("illustration")
    assert len(toonnet.classes) == 12 and toonnet.split.params.model_dump() == {"test_fraction": 0.3}
    assert len(illustration.classes) == 23 and illustration.split.params.model_dump() == {"test_fraction": 0.2}
    faces = load_spec("icartoonface")
    assert faces.split.params.seen_probe_identities == 1200
    assert faces.split.params.unseen_probe_identities == 800
    assert faces.dataset.options.enlarged_rate == 1.0
    assert faces.split.params.distractor_identities == 2500
    assert faces.split.params.verification_pairs == 3000


def toonnet_document() -> dict[str, Any]:
    return yaml.safe_load(spec_path("toonnet").read_text())


def write_spec(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def edited(change) -> dict[str, Any]:
    document = copy.deepcopy(toonnet_document())
    change(document)
    return document


BAD_SPECS = [
    ("unknown top-level key", lambda d: d.update(colour="red"), "colour", "unknown key"),
    ("unknown nested key", lambda d: d["dataset"].update(foo=1), "dataset.foo", "unknown key"),
    ("wrong type", lambda d: d.update(version="one"), "version", "valid integer"),
    ("version below one", lambda d: d.update(version=0), "version", "greater than or equal to 1"),
    ("unknown adapter", lambda d: d["dataset"].update(adapter="folder_per_clas"), "dataset.adapter",
     "unknown adapter 'folder_per_clas'; did you mean 'folder_per_class'"),
    ("adapter of another task", lambda d: d["dataset"].update(adapter="icartoonface"), "dataset.adapter",
     "does not serve task 'classification'"),
    ("unknown adapter option", lambda d: d["dataset"].update(options={"extension": [".jpg"]}),
     "dataset.options.extension", "unknown key"),
    ("unknown generator", lambda d: d["dataset"]["synthetic"].update(generator="toon_object"),
     "dataset.synthetic.generator", "unknown generator 'toon_object'; did you mean 'toon_objects'"),
    ("unknown generator param", lambda d: d["dataset"]["synthetic"].update(per_clas=3),
     "dataset.synthetic.per_clas", "unknown key"),
    ("unknown metric fn", lambda d: d["metrics"][0].update(fn="topk_eror"), "metrics.0.fn",
     "unknown metric 'topk_eror'; did you mean 'topk_error'"),
    ("metric of another task", lambda d: d["metrics"][1].update(fn="cmc_rank", higher_is_better=True),
     "metrics.1.fn", "'cmc_rank' does not apply to task 'classification'"),
    ("wrong direction", lambda d: d["metrics"][0].update(higher_is_better=True), "metrics.0.higher_is_better",
     "'topk_error' is better when lower; expected higher_is_better: false"),
    ("duplicate metric names", lambda d: d["metrics"][1].update(name="top1_error"), "metrics",
     "duplicate metric names ['top1_error']"),
    ("rank_by not declared", lambda d: d["leaderboard"].update(rank_by="top5_error"), "leaderboard.rank_by",
     "'top5_error' is not a declared metric"),
    ("unknown split method", lambda d: d["split"].update(method="stratify"), "split.method",
     "unknown split method 'stratify'; did you mean 'stratified'"),
    ("fraction above one", lambda d: d["split"].update(test_fraction=1.5), "split.test_fraction",
     "less than 1 (got 1.5)"),
    ("split method of another task", lambda d: d["split"].update(method="domain_holdout"), "split.method",
     "does not serve task 'classification'"),
    ("badly named profile", lambda d: d["profiles"].update({"Huge!": {"dataset": {}}}), "profiles.Huge!",
     "a profile name is lower-case letters"),
    ("profile overriding metrics", lambda d: d["profiles"]["tiny"].update(metrics=[]), "profiles.tiny",
     "may only override 'dataset' and 'split'"),
    ("one class only", lambda d: d.update(classes=["cat"]), "classes", "at least 2 class names"),
    ("negative limit", lambda d: d["limits"].update(timeout_s=-5), "limits.timeout_s", "greater than 0"),
]


@pytest.mark.parametrize(("case", "change", "field", "message"), BAD_SPECS, ids=[c[0] for c in BAD_SPECS])
def test_it_rejects_a_bad_spec_naming_file_field_and_reason(tmp_path: Path, case: str, change, field: str, message: str) -> None:
    path = write_spec(tmp_path, edited(change))
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert caught.value.path == str(path)
    assert caught.value.field == field
    assert message in caught.value.problem
    assert str(caught.value).startswith(f"{path}: {field}: ")


def test_it_rejects_a_yaml_document_that_is_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- slug\n- title\n")
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert (caught.value.path, caught.value.field) == (str(path), "")
    assert caught.value.problem == "expected a mapping at the top level, got list"


def test_it_rejects_invalid_yaml_syntax(tmp_path: Path) -> None:
    path = tmp_path / "syntax.yaml"
    path.write_text("slug: toonnet\ntitle: [unclosed\n")
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert (caught.value.path, caught.value.field) == (str(path), "")
    assert caught.value.problem.startswith("not valid YAML")


def test_it_rejects_an_unknown_profile_name() -> None:
    with pytest.raises(SpecError) as caught:
        load_spec("toonnet", "huge")
    assert caught.value.field == "profile"
    assert "unknown profile 'huge'" in caught.value.problem


def test_it_rejects_an_unknown_slug_listing_the_known_ones() -> None:
    with pytest.raises(SpecError, match="no benchmark 'toonet' \\(known: cartoonization, icartoonface, illustration, toonnet\\)"):
        load_spec("toonet")


def test_it_rejects_a_missing_required_field(tmp_path: Path) -> None:
    path = write_spec(tmp_path, edited(lambda d: d.pop("task")))
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert (caught.value.field, caught.value.problem) == ("task", "Field required")


def test_validate_command_reports_ok_for_every_benchmark(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"OK {spec_path(slug)}" for slug in SLUGS]


def test_validate_command_prints_the_error_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_spec(tmp_path, edited(lambda d: d["split"].update(test_fraction=1.5)))
    good = spec_path("toonnet")
    assert main(["validate", str(path), str(good)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{path}: split.test_fraction: ")
    assert out[1] == f"OK {good}"
