"""A version that differs from the current one only in its spec hash (same data, same truth, same protocol
under today's hashing) takes the current one's submissions and results along; any other change does not."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from benchmarks.models import Benchmark, ProtocolVersion
from benchmarks.sync import spec_document, sync_benchmarks
from datasets.build import BuiltBenchmark, build_benchmark
from datasets.manifest import ManifestItem, manifest_bytes, protocol_hash
from evaluator.scoring import EvaluationResult
from results.models import MetricValue, Result
from results.store import save_result
from submissions.models import Status, Submission

pytestmark = pytest.mark.django_db


def hash_as_before(document: dict) -> str:
    """The spec hash as it was computed before wording, quotas and phases left it: the whole spec but its
    source path and list order."""
    payload = {key: value for key, value in document.items()
               if key not in {"source_path", "order", "heldout_parts", "phases"}}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@pytest.fixture
def built(tmp_path: Path) -> BuiltBenchmark:
    return build_benchmark("toonnet", tmp_path / "data", profile="tiny")


def earlier_version(built: BuiltBenchmark, document: dict, items: list[ManifestItem] | None = None) -> ProtocolVersion:
    """The version a site recorded for ``items`` (``built``'s by default) under the earlier hashing of ``document``."""
    sync_benchmarks(built.folder.parent.parent / "nothing-built", specs=[built.spec])
    old_spec_hash = hash_as_before(document)
    return ProtocolVersion.objects.create(
        benchmark=Benchmark.objects.get(slug="toonnet"), version=1, spec_hash=old_spec_hash,
        protocol_hash=protocol_hash(old_spec_hash, manifest_bytes(built.items if items is None else items)), profile="tiny",
        source="synthetic", spec=document, test_items=len(built.test_items()), is_current=True,
    )


def scored_submission(version: ProtocolVersion, owner: User) -> Submission:
    submission = Submission.objects.create(
        owner=owner, benchmark=version.benchmark, protocol=version, kind="image", image_ref="example/model:1",
        method_name="model", status=Status.FINISHED,
    )
    save_result(submission, EvaluationResult("toonnet", version.protocol_hash, {"top1_error": 0.25, "top3_error": 0.1},
                                             {"top1_error": (0.2, 0.3), "top3_error": (0.05, 0.15)}))
    return submission


def test_results_follow_a_version_that_only_rehashes_the_spec(built: BuiltBenchmark, alice: User, site) -> None:
    site.TOONBENCH_DATA_ROOT = built.folder.parent
    old = earlier_version(built, spec_document(built.spec))
    submission = scored_submission(old, alice)
    assert old.spec_hash != built.spec.spec_hash()

    report = sync_benchmarks(built.folder.parent, specs=[built.spec])

    new = ProtocolVersion.objects.get(is_current=True)
    assert new.protocol_hash == built.protocol_hash and new.pk != old.pk
    assert Submission.objects.get(pk=submission.pk).protocol_id == new.pk
    assert set(MetricValue.objects.values_list("protocol_id", flat=True)) == {new.pk}
    assert Result.objects.get(submission=submission).protocol_hash == old.protocol_hash  # what it was scored under
    old.refresh_from_db()
    assert old.results_moved_to_id == new.pk
    assert f"moved to {new.short_hash} (2 metric values, 1 submissions); same data and truth" in old.moved_note
    assert report.moved_results == [f"toonnet {old.short_hash} -> {new.short_hash} (2 metric values, 1 submissions)"]
    board = Client().get("/api/benchmarks/toonnet/leaderboard/").json()
    assert board["protocol_hash"] == new.protocol_hash and [row["metrics"]["top1_error"]["value"] for row in board["rows"]] == [0.25]


def test_results_stay_when_the_protocol_itself_changed(built: BuiltBenchmark, alice: User) -> None:
    document = spec_document(built.spec)
    document["metrics"][1]["params"]["k"] = 2
    old = earlier_version(built, document)
    submission = scored_submission(old, alice)

    report = sync_benchmarks(built.folder.parent, specs=[built.spec])

    assert report.moved_results == []
    assert Submission.objects.get(pk=submission.pk).protocol_id == old.pk
    old.refresh_from_db()
    assert old.results_moved_to is None and old.moved_note == "" and not old.is_current


def test_results_stay_when_the_data_changed(built: BuiltBenchmark, alice: User) -> None:
    old = earlier_version(built, spec_document(built.spec), items=built.items[1:])
    submission = scored_submission(old, alice)

    report = sync_benchmarks(built.folder.parent, specs=[built.spec])

    assert report.moved_results == [] and Submission.objects.get(pk=submission.pk).protocol_id == old.pk
