"""sync_benchmarks: specs become benchmarks, built protocols become versions, old results stay put."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.contrib.auth.models import User
from django.core.management import call_command

import datasets.spec
from benchmarks.models import Benchmark, ProtocolVersion
from benchmarks.sync import sync_benchmarks
from datasets.build import build_benchmark, load_built
from datasets.spec import load_spec
from evaluator.scoring import EvaluationResult
from results.store import save_result
from results.models import Result
from submissions.models import Status, Submission
from toonnet_outputs import copy_specs

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_specs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the spec folder that the loader reads instead of the real one."""
    folder = copy_specs(tmp_path / "benchmarks")
    monkeypatch.setattr(datasets.spec, "BENCHMARKS_DIR", folder)
    return folder


def test_syncing_twice_creates_one_benchmark_and_one_current_version(data_root: Path) -> None:
    spec = load_spec("toonnet")
    first = sync_benchmarks(data_root, specs=[spec])
    second = sync_benchmarks(data_root, specs=[spec])
    assert first.created_benchmarks == ["toonnet"] and len(first.new_versions) == 1
    assert second.created_benchmarks == [] and second.new_versions == []
    version = ProtocolVersion.objects.get()
    built = load_built("toonnet", data_root)
    assert version.protocol_hash == built.protocol_hash and built.keyed
    assert first.public_splits == [] and not any(line.startswith("public split") for line in first.lines())
    assert version.is_current and version.test_items == len(built.test_items())
    benchmark = Benchmark.objects.get()
    assert benchmark.title == spec.title and benchmark.spec["leaderboard"]["rank_by"] == "top1_error"


def test_a_spec_that_is_not_built_gets_a_benchmark_but_no_version(tmp_path: Path) -> None:
    report = sync_benchmarks(tmp_path / "empty", specs=[load_spec("toonnet")])
    assert Benchmark.objects.filter(slug="toonnet").exists()
    assert not ProtocolVersion.objects.exists()
    assert "not built" in report.not_built[0]


def test_a_changed_spec_makes_a_new_version_and_leaves_old_results_alone(
    own_specs: Path, tmp_path: Path, django_user_model: type[User]
) -> None:
    root = tmp_path / "data"
    build_benchmark("toonnet", root, profile="tiny")
    sync_benchmarks(root, specs=[load_spec("toonnet")])
    old_version = ProtocolVersion.objects.get()
    owner = django_user_model.objects.create_user("alice")
    submission = Submission.objects.create(
        owner=owner, benchmark=old_version.benchmark, protocol=old_version, kind="image",
        image_ref="example/model:1", method_name="model", status=Status.FINISHED,
    )
    save_result(submission, EvaluationResult("toonnet", old_version.protocol_hash, {"top1_error": 0.25}, {}))

    spec_file = own_specs / "toonnet.yaml"
    document = yaml.safe_load(spec_file.read_text())
    document["split"]["seed"] = 1
    spec_file.write_text(yaml.safe_dump(document))
    stale = sync_benchmarks(root, specs=[load_spec("toonnet")])
    assert "older version" in stale.stale[0]
    assert ProtocolVersion.objects.get().is_current

    build_benchmark("toonnet", root, profile="tiny")
    report = sync_benchmarks(root, specs=[load_spec("toonnet")])
    assert len(report.new_versions) == 1
    versions = {v.protocol_hash: v for v in ProtocolVersion.objects.all()}
    assert len(versions) == 2
    new_version = next(v for h, v in versions.items() if h != old_version.protocol_hash)
    assert new_version.is_current and not versions[old_version.protocol_hash].is_current
    assert new_version.spec_hash != old_version.spec_hash
    assert versions[old_version.protocol_hash].spec["split"]["seed"] == 0
    result = Result.objects.get(submission=submission)
    assert result.protocol_hash == old_version.protocol_hash and result.metrics == {"top1_error": 0.25}
    assert Submission.objects.get().protocol_id == old_version.pk


def test_the_management_command_reports_what_it_did(data_root: Path, own_specs: Path) -> None:
    for path in own_specs.glob("*.yaml"):
        if path.stem != "toonnet":
            path.unlink()
    out = StringIO()
    call_command("sync_benchmarks", "--data", str(data_root), stdout=out)
    assert "created benchmark toonnet" in out.getvalue()
    assert "new protocol version toonnet v1" in out.getvalue()


def test_a_build_without_the_secret_is_reported_as_a_public_split(tmp_path: Path) -> None:
    root = tmp_path / "data"
    build_benchmark("toonnet", root, profile="tiny")
    report = sync_benchmarks(root, specs=[load_spec("toonnet")])
    assert report.public_splits == ["toonnet"]
    assert ("public split: toonnet was built without the build secret, so anyone can rebuild its test truth from "
            "the bundle; rebuild it with: python -m datasets build toonnet --server") in report.lines()
