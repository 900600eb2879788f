"""Models, the daily quota, result storage and leaderboard ranking."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.contrib.auth.models import User
from django.utils import timezone

from benchmarks.models import Benchmark

from evaluator.scoring import EvaluationResult
from leaderboards.queries import leaderboard_metrics, ranked_submissions
from results.store import save_result
from results.models import MetricValue, Result
from submissions.models import Status, Submission
from submissions.quota import QuotaExceeded, check_quota, remaining_submissions, submissions_in_window
from submissions.services import SubmissionRefused, create_submission
from teams.services import team_of

pytestmark = pytest.mark.django_db


def make_submission(owner: User, benchmark: Benchmark, status: str = Status.QUEUED, **fields: Any) -> Submission:
    return Submission.objects.create(
        owner=owner,
        benchmark=benchmark,
        protocol=benchmark.current_version(),
        kind="image",
        image_ref="example/model:1",
        method_name=fields.pop("method_name", "model"),
        status=status,
        **fields,
    )


def result_with(top1: float, top3: float, protocol_hash: str) -> EvaluationResult:
    return EvaluationResult(
        slug="toonnet",
        protocol_hash=protocol_hash,
        metrics={"top1_error": top1, "top3_error": top3},
        ci95={"top1_error": (top1 - 0.05, top1 + 0.05), "top3_error": (top3 - 0.05, top3 + 0.05)},
    )


def test_the_synced_benchmark_exposes_its_spec_limits_and_rank_metric(toonnet: Benchmark) -> None:
    assert toonnet.task == "classification"
    assert toonnet.rank_by == "top1_error"
    assert toonnet.higher_is_better("top1_error") is False
    assert toonnet.typed_spec.limits.submissions_per_day == 5
    assert leaderboard_metrics(toonnet) == ["top1_error", "top3_error"]
    assert toonnet.current_version().profile == "tiny"


def test_failed_and_cancelled_submissions_do_not_count_against_the_quota(
    toonnet: Benchmark, alice: User, bob: User
) -> None:
    for status in (Status.FINISHED, Status.QUEUED, Status.RUNNING, Status.TIMED_OUT):
        make_submission(alice, toonnet, status)
    for status in (Status.FAILED, Status.CANCELLED, Status.FAILED):
        make_submission(alice, toonnet, status)
    make_submission(bob, toonnet, Status.FINISHED)
    assert submissions_in_window(team_of(alice), toonnet) == 4
    assert remaining_submissions(team_of(alice), toonnet) == 1
    assert remaining_submissions(team_of(bob), toonnet) == 4


def test_submissions_older_than_a_day_free_their_quota(toonnet: Benchmark, alice: User) -> None:
    for _ in range(5):
        make_submission(alice, toonnet, Status.FINISHED)
    with pytest.raises(QuotaExceeded, match="5 submissions to toonnet"):
        check_quota(team_of(alice), toonnet)
    Submission.objects.update(created=timezone.now() - timedelta(hours=24, minutes=1))
    assert remaining_submissions(team_of(alice), toonnet) == 5


def test_create_submission_refuses_over_quota_but_not_for_baselines(toonnet: Benchmark, alice: User) -> None:
    for _ in range(5):
        make_submission(alice, toonnet, Status.FINISHED)
    with pytest.raises(QuotaExceeded):
        create_submission(alice, toonnet, "image", "one more", image_ref="example/model:2", queue=False)
    baseline = create_submission(
        alice, toonnet, "local", "baseline", command=["python", "-c", "pass"], is_baseline=True, queue=False
    )
    assert baseline.protocol == toonnet.current_version()
    with pytest.raises(SubmissionRefused, match="needs an uploaded file"):
        create_submission(alice, toonnet, "predictions", "no file", is_baseline=True, queue=False)


def test_saving_a_result_twice_keeps_one_result_and_one_value_per_metric(
    toonnet: Benchmark, alice: User
) -> None:
    submission = make_submission(alice, toonnet, Status.SCORING)
    protocol_hash = toonnet.current_version().protocol_hash
    save_result(submission, result_with(0.5, 0.25, protocol_hash))
    save_result(submission, result_with(0.4, 0.2, protocol_hash))
    assert Result.objects.filter(submission=submission).count() == 1
    values = {v.name: (v.value, v.ci_low, v.ci_high) for v in MetricValue.objects.filter(submission=submission)}
    assert values == {"top1_error": pytest.approx((0.4, 0.35, 0.45)), "top3_error": pytest.approx((0.2, 0.15, 0.25))}


def test_a_second_result_row_for_one_submission_is_refused_by_the_database(
    toonnet: Benchmark, alice: User
) -> None:
    submission = make_submission(alice, toonnet, Status.FINISHED)
    Result.objects.create(submission=submission, protocol_hash="x", metrics={})
    with pytest.raises(IntegrityError), transaction.atomic():
        Result.objects.create(submission=submission, protocol_hash="x", metrics={})


def test_the_leaderboard_ranks_lower_error_first_and_hides_other_peoples_private_entries(
    toonnet: Benchmark, alice: User, bob: User
) -> None:
    protocol_hash = toonnet.current_version().protocol_hash
    errors = {"a": 0.30, "b": 0.10, "c": 0.20, "private": 0.05, "nan": float("nan")}
    for name, top1 in errors.items():
        owner = bob if name == "private" else alice
        submission = make_submission(owner, toonnet, Status.FINISHED, method_name=name, is_public=name != "private")
        save_result(submission, result_with(top1, top1 / 2, protocol_hash))
    make_submission(alice, toonnet, Status.RUNNING, method_name="unscored")

    public = list(ranked_submissions(toonnet, view="all"))
    assert [s.method_name for s in public] == ["b", "c", "a", "nan"]
    assert [s.rank for s in public[:3]] == [1, 2, 3]
    assert public[0].score == pytest.approx(0.10)
    assert public[-1].score is None
    as_bob = [s.method_name for s in ranked_submissions(toonnet, viewer=bob, view="all")]
    assert as_bob[:2] == ["private", "b"]
    by_top3 = [s.method_name for s in ranked_submissions(toonnet, metric="top3_error", view="all")]
    assert by_top3 == ["b", "c", "a", "nan"]
