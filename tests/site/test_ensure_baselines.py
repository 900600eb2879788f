"""``ensure_baselines`` puts each bundled baseline on its current leaderboard once.

These run without images (``use_images=False``): the local fallback. The
image path, through a real engine and registry, is tests/registry/test_baseline_images_submitted.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_django.fixtures import Settings

from baselines.registry import all_baselines
from benchmarks.sync import sync_benchmarks
from datasets.build import build_benchmark
from datasets.spec import load_spec
from seeding.baselines import BASELINE_OWNER, LOCAL_NOTE, ensure_baselines, in_submission_order
from submissions.models import Kind, Status, Submission

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def cartoonization(site: Settings, data_root: Path) -> Path:
    build_benchmark("cartoonization", data_root, profile="tiny")
    sync_benchmarks(data_root, specs=[load_spec("cartoonization")])
    return data_root


def expected_methods() -> set[str]:
    return {b.method for b in all_baselines() if b.benchmark == "cartoonization"}


def test_without_images_it_submits_every_baseline_as_a_flagged_local_submission_that_says_so(cartoonization: Path) -> None:
    report = ensure_baselines(cartoonization, benchmarks=["cartoonization"], log=lambda line: None, use_images=False)

    submissions = Submission.objects.filter(benchmark__slug="cartoonization")
    assert {s.method_name for s in submissions} == expected_methods()
    assert len(report.submitted) == len(expected_methods())
    for submission in submissions:
        assert submission.is_baseline and submission.is_public
        assert submission.kind == Kind.LOCAL
        assert submission.owner.username == BASELINE_OWNER
        assert submission.command[1].endswith("predict.py")
        assert submission.description.endswith(LOCAL_NOTE)
        assert submission.status == Status.QUEUED


def test_a_second_run_submits_nothing_new(cartoonization: Path) -> None:
    ensure_baselines(cartoonization, benchmarks=["cartoonization"], log=lambda line: None, use_images=False)
    report = ensure_baselines(cartoonization, benchmarks=["cartoonization"], log=lambda line: None, use_images=False)

    assert report.submitted == []
    assert len(report.present) == len(expected_methods())
    assert Submission.objects.filter(benchmark__slug="cartoonization").count() == len(expected_methods())


def test_a_failed_baseline_is_submitted_again(cartoonization: Path) -> None:
    ensure_baselines(cartoonization, benchmarks=["cartoonization"], log=lambda line: None, use_images=False)
    failed = Submission.objects.filter(benchmark__slug="cartoonization").first()
    Submission.objects.filter(pk=failed.pk).update(status=Status.FAILED)

    report = ensure_baselines(cartoonization, benchmarks=["cartoonization"], log=lambda line: None, use_images=False)

    assert report.submitted == [b.name for b in all_baselines() if b.method == failed.method_name]
    assert Submission.objects.filter(method_name=failed.method_name).count() == 2


def test_a_benchmark_without_a_built_protocol_is_skipped_with_the_reason(site: Settings, data_root: Path) -> None:
    sync_benchmarks(data_root, specs=[load_spec("illustration")])

    report = ensure_baselines(data_root, benchmarks=["illustration"], log=lambda line: None, use_images=False)

    assert report.submitted == []
    assert report.skipped and all("no built protocol" in line for line in report.skipped)


def test_baselines_go_in_the_benchmarks_listing_order_with_untrained_ones_first(site: Settings, data_root: Path) -> None:
    sync_benchmarks(data_root, specs=[load_spec(slug) for slug in ("cartoonization", "icartoonface", "illustration", "toonnet")])

    ordered = in_submission_order(all_baselines())

    benchmarks = [b.benchmark for b in ordered]
    assert list(dict.fromkeys(benchmarks)) == ["toonnet", "illustration", "icartoonface", "cartoonization"]
    cartoon = [b for b in ordered if b.benchmark == "cartoonization"]
    untrained = [b.name for b in cartoon if not b.needs_training]
    assert untrained and [b.name for b in cartoon[: len(untrained)]] == untrained
    assert all(b.needs_training for b in cartoon[len(untrained):])
    assert sorted(b.name for b in ordered) == sorted(b.name for b in all_baselines())
