"""Ties on the leaderboard come from a paired test of adjacent rows on the same test items.

Submissions go through the real worker path (a predictions archive,
``submissions.jobs.evaluate``), which stores each result's per-item evidence;
the tiny toonnet split has 72 test items of 12 classes. Each submission's
scores are built so that exactly the chosen items are top-1 hits.
"""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

import numpy as np
import pytest
from django.contrib.auth.models import User
from django.core.files import File
from django.test import Client

from benchmarks.models import Benchmark
from datasets.build import BuiltBenchmark
from evaluator.evidence_store import load_evidence
from evaluator.metrics import METRICS
from evaluator.metrics.classification import ClassificationEvidence, TopKParams
from evaluator.metrics.intervals import paired_difference
from leaderboards import comparisons
from leaderboards.models import PairedComparison
from leaderboards.table import Cell, intervals_overlap, leaderboard_table
from submissions import jobs
from submissions.models import Result, Status, Submission
from toonnet_outputs import predictions_zip, true_class_indices

pytestmark = pytest.mark.django_db(transaction=True)  # the job's heartbeat thread uses the database


def scores_with_hits(built: BuiltBenchmark, hits: np.ndarray) -> np.ndarray:
    """float32 scores whose top-1 is right exactly on the items ``hits`` marks (no ties)."""
    truth = true_class_indices(built)
    scores = np.random.default_rng(5).random((len(truth), len(built.spec.classes))).astype(np.float32) * 0.5
    rows = np.arange(len(truth))
    scores[rows, truth] = np.where(hits, 1.0, -1.0)
    return scores


def hits_on_first(built: BuiltBenchmark, count: int) -> np.ndarray:
    hits = np.zeros(len(true_class_indices(built)), dtype=bool)
    hits[:count] = True
    return hits


def evaluated(owner: User, benchmark: Benchmark, scores: np.ndarray, method: str, tmp_path: Path) -> Submission:
    """A predictions submission evaluated by the worker's code path, as the Celery task runs it."""
    submission = Submission(owner=owner, benchmark=benchmark, protocol=benchmark.current_version(),
                            kind="predictions", method_name=method)
    with open(predictions_zip(tmp_path / f"{method}.zip", scores), "rb") as handle:
        submission.artefact.save("predictions.zip", File(handle), save=False)
    submission.save()
    assert jobs.evaluate(submission.pk) == Status.FINISHED
    return Submission.objects.select_related("result").get(pk=submission.pk)


def cell(submission: Submission, name: str = "top1_error") -> Cell:
    low, high = submission.result.ci95[name]
    return Cell(submission.result.metrics[name], low, high)


def direct_test(built: BuiltBenchmark, first: np.ndarray, second: np.ndarray):  # type: ignore[no-untyped-def]
    """``paired_difference`` on evidence made here from the scores and the truth (not from the stored files)."""
    truth, classes = true_class_indices(built), tuple(built.spec.classes)
    return paired_difference(METRICS.get("topk_error"), ClassificationEvidence(first, truth, classes),
                             ClassificationEvidence(second, truth, classes), TopKParams(k=1))


def test_the_worker_stores_evidence_that_reads_back_as_the_scored_items(
    toonnet: Benchmark, alice: User, toonnet_built: BuiltBenchmark, tmp_path: Path
) -> None:
    scores = scores_with_hits(toonnet_built, hits_on_first(toonnet_built, 40))
    submission = evaluated(alice, toonnet, scores, "forty hits", tmp_path)
    stored = submission.result.evidence
    assert stored.name.startswith("evidence/toonnet/") and stored.name.endswith(".npz")
    with stored.open("rb") as handle:
        evidence = load_evidence(handle.read())["classification"]
    np.testing.assert_array_equal(evidence.scores, scores)
    np.testing.assert_array_equal(evidence.labels, true_class_indices(toonnet_built))
    assert submission.result.metrics["top1_error"] == pytest.approx(32 / 72)


def test_outputs_that_differ_on_two_items_are_tied_with_the_stored_p_value(
    toonnet: Benchmark, alice: User, toonnet_built: BuiltBenchmark, tmp_path: Path, client: Client
) -> None:
    better_scores = scores_with_hits(toonnet_built, hits_on_first(toonnet_built, 42))
    hits = hits_on_first(toonnet_built, 42)
    hits[:2] = False  # the same outputs but for items 0 and 1, now wrong
    worse_scores = scores_with_hits(toonnet_built, hits)
    better = evaluated(alice, toonnet, better_scores, "better", tmp_path)
    worse = evaluated(alice, toonnet, worse_scores, "two items worse", tmp_path)

    table = leaderboard_table(toonnet)
    assert [row.submission.pk for row in table.rows] == [better.pk, worse.pk]
    direct = direct_test(toonnet_built, better_scores, worse_scores)
    assert direct.difference == pytest.approx(-2 / 72) and direct.p_value >= 0.05
    second = table.rows[1]
    assert second.tied_with_above and second.p_vs_above == direct.p_value
    stored = PairedComparison.objects.get(metric="top1_error", first=better.result, second=worse.result)
    assert (stored.p_value, stored.method) == (direct.p_value, "bootstrap")
    assert (stored.difference, stored.low, stored.high) == pytest.approx((direct.difference, direct.low, direct.high))

    html = client.get("/benchmarks/toonnet/").content.decode()
    assert (f'title="top1_error: not significantly different from the entry above (paired test on the same '
            f'test items, p = {direct.p_value:.3g})">=</span>2') in html
    record = client.get("/api/benchmarks/toonnet/leaderboard/").json()["rows"]
    assert [(row["tied_with_above"], row["p_vs_above"]) for row in record] == [(False, None), (True, direct.p_value)]
    export = client.get("/api/benchmarks/toonnet/leaderboard/?format=csv").content.decode()
    exported = list(csv.DictReader(io.StringIO(export)))
    assert [(row["tied_with_above"], row["p_vs_above"]) for row in exported] == [
        ("False", ""), ("True", repr(direct.p_value))]
    assert PairedComparison.objects.count() == 1  # three renders, one computation


def test_clearly_different_outputs_are_not_tied_although_their_intervals_overlap(
    toonnet: Benchmark, alice: User, toonnet_built: BuiltBenchmark, tmp_path: Path
) -> None:
    # The worse one misses 12 more items and gets no item right that the better one misses.
    better_scores = scores_with_hits(toonnet_built, hits_on_first(toonnet_built, 42))
    worse_scores = scores_with_hits(toonnet_built, hits_on_first(toonnet_built, 30))
    better = evaluated(alice, toonnet, better_scores, "better", tmp_path)
    worse = evaluated(alice, toonnet, worse_scores, "worse", tmp_path)
    assert intervals_overlap(cell(better), cell(worse))  # the old rule would have called this a tie
    assert cell(better).high > cell(worse).low

    row = leaderboard_table(toonnet).rows[1]
    direct = direct_test(toonnet_built, better_scores, worse_scores)
    assert direct.difference == pytest.approx(-12 / 72) and direct.p_value < 0.01
    assert row.submission.pk == worse.pk and not row.tied_with_above and row.p_vs_above == direct.p_value


def test_a_result_without_evidence_falls_back_to_interval_overlap(
    toonnet: Benchmark, alice: User, toonnet_built: BuiltBenchmark, tmp_path: Path, client: Client
) -> None:
    better = evaluated(alice, toonnet, scores_with_hits(toonnet_built, hits_on_first(toonnet_built, 42)), "better",
                       tmp_path)
    worse = evaluated(alice, toonnet, scores_with_hits(toonnet_built, hits_on_first(toonnet_built, 30)), "older",
                      tmp_path)
    Result.objects.filter(pk=worse.result.pk).update(evidence="")  # as a result scored before evidence was kept

    row = leaderboard_table(toonnet).rows[1]
    assert row.tied_with_above and row.p_vs_above is None
    assert row.tie_fallback == "no per-item evidence stored for one of the two results"
    assert PairedComparison.objects.count() == 0
    html = client.get("/benchmarks/toonnet/").content.decode()
    assert ('title="top1_error: 95% interval overlaps the entry above (no per-item evidence stored for one of the '
            'two results; interval-overlap rule)">=</span>2') in html
    assert better.pk != worse.pk


def test_a_truncated_evidence_file_fails_the_comparison_once_and_the_page_falls_back(
    toonnet: Benchmark, alice: User, toonnet_built: BuiltBenchmark, tmp_path: Path, client: Client,
    caplog: pytest.LogCaptureFixture,
) -> None:
    evaluated(alice, toonnet, scores_with_hits(toonnet_built, hits_on_first(toonnet_built, 42)), "better", tmp_path)
    worse = evaluated(alice, toonnet, scores_with_hits(toonnet_built, hits_on_first(toonnet_built, 30)), "damaged",
                      tmp_path)
    path = Path(worse.result.evidence.path)
    path.write_bytes(path.read_bytes()[:200])

    with caplog.at_level(logging.WARNING, logger="leaderboards.comparisons"):
        page = client.get("/benchmarks/toonnet/")
    assert page.status_code == 200
    warnings = [record.getMessage() for record in caplog.records if record.name == "leaderboards.comparisons"]
    assert len(warnings) == 1 and "\n" not in warnings[0]
    assert warnings[0].startswith("paired test of top1_error between results #")
    assert f"evidence of result #{worse.result.pk}: evidence archive unreadable: BadZipFile" in warnings[0]
    html = page.content.decode()
    assert "(the paired test could not be run; interval-overlap rule)\">=</span>2" in html

    stored = PairedComparison.objects.get()
    assert stored.p_value is None and "BadZipFile" in stored.failure
    caplog.clear()
    row = leaderboard_table(toonnet).rows[1]
    assert row.tied_with_above and row.p_vs_above is None and not caplog.records  # stored: not tried again


def test_storing_a_result_again_replaces_its_evidence_and_drops_its_comparisons(
    toonnet: Benchmark, alice: User, toonnet_built: BuiltBenchmark, tmp_path: Path
) -> None:
    evaluated(alice, toonnet, scores_with_hits(toonnet_built, hits_on_first(toonnet_built, 42)), "better", tmp_path)
    worse = evaluated(alice, toonnet, scores_with_hits(toonnet_built, hits_on_first(toonnet_built, 30)), "worse",
                      tmp_path)
    leaderboard_table(toonnet)
    assert PairedComparison.objects.count() == 1
    old = Path(worse.result.evidence.path)
    request = jobs.evaluation_request(worse, Path(worse.artefact.path))
    assert jobs.run_evaluation(request, jobs.DjangoJobStore()) == Status.FINISHED
    result = Result.objects.get(submission=worse)
    assert result.evidence.name and Path(result.evidence.path) != old and not old.exists()
    assert PairedComparison.objects.count() == 0


def test_a_build_past_its_time_budget_leaves_the_remaining_pairs_to_the_next_one(
    toonnet: Benchmark, alice: User, toonnet_built: BuiltBenchmark, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for count in (50, 42, 30):
        evaluated(alice, toonnet, scores_with_hits(toonnet_built, hits_on_first(toonnet_built, count)), f"{count}",
                  tmp_path)
    monkeypatch.setattr(comparisons, "COMPUTE_BUDGET_S", 0.0)  # every pair is over budget: one per build
    first = leaderboard_table(toonnet).rows
    assert [row.p_vs_above is not None for row in first] == [False, True, False]
    assert first[2].tie_fallback == "the paired test has not been computed yet"
    second = leaderboard_table(toonnet).rows
    assert [row.p_vs_above is not None for row in second] == [False, True, True]
    assert PairedComparison.objects.count() == 2


def test_a_deleted_result_takes_its_evidence_file_along(
    toonnet: Benchmark, alice: User, toonnet_built: BuiltBenchmark, tmp_path: Path,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    requeued = evaluated(alice, toonnet, scores_with_hits(toonnet_built, hits_on_first(toonnet_built, 30)), "requeued",
                         tmp_path)
    path = Path(requeued.result.evidence.path)
    assert path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        Result.objects.filter(submission=requeued).delete()  # what the admin's "evaluate again" does
    assert not path.exists()
