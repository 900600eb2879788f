"""Ties on the leaderboard come from a paired test of adjacent rows on the same test items.

Submissions go through the real worker path (a predictions archive,
``jobs.evaluation.evaluate``), which stores each result's per-item evidence
and, once the result is committed, runs the comparisons task
(``leaderboards.tasks.compare_neighbours``, at once here: Celery runs eagerly);
the tiny toonnet split has 72 test items of 12 classes. Each submission's
scores are built so that exactly the chosen items are top-1 hits. The data
root holds the build secret, so the worker draws the keyed seed. One
participant makes the rows here, so the tables read are the view of every
submission (``view=all``); the one-row-per-team view is tested in
test_team_entries.py.
"""

from __future__ import annotations

import csv
import io
import logging
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from django.contrib.auth.models import User
from django.core.files import File
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from benchmarks.models import Benchmark
from conftest import SITE_BUILD_SECRET
from datasets.build import BuiltBenchmark
from evaluator import scoring
from evaluator.evidence_store import load_evidence
from evaluator.metrics import METRICS
from evaluator.metrics.classification import ClassificationEvidence, TopKParams
from evaluator.metrics.intervals import PairedDifference, metric_interval, paired_difference
from leaderboards import comparisons
from results.models import ComparisonState, ComparisonTrigger, PairedComparison
from leaderboards.table import Cell, intervals_overlap, leaderboard_table
from jobs import evaluation
from results.models import Result
from submissions.models import Status, Submission
from maintenance.tasks import sweep_stale_jobs
from toonbench_site.celery import app as celery_app
from toonnet_outputs import predictions_zip, true_class_indices

pytestmark = pytest.mark.django_db(transaction=True)  # the job's heartbeat thread uses the database


@pytest.fixture(autouse=True)
def eager_tasks() -> Iterator[None]:
    """Queued tasks run at once in this process, through the real task."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


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
    assert evaluation.evaluate(submission.pk) == Status.FINISHED
    return Submission.objects.select_related("result").get(pk=submission.pk)


def cell(submission: Submission, name: str = "top1_error") -> Cell:
    low, high = submission.result.ci95[name]
    return Cell(submission.result.metrics[name], low, high)


def keyed_seed(built: BuiltBenchmark) -> int:
    """The seed the server draws with: the protocol hash under the build secret (docs/statistics.md)."""
    return scoring.statistics_seed(built.protocol_hash, SITE_BUILD_SECRET)


def direct_test(built: BuiltBenchmark, first: np.ndarray, second: np.ndarray,
                seed: int | None = None) -> PairedDifference:
    """``paired_difference`` on evidence made here from the scores and the truth (not from the stored files),
    with the server's keyed seed unless ``seed`` is given."""
    truth, classes = true_class_indices(built), tuple(built.spec.classes)
    return paired_difference(METRICS.get("topk_error"), ClassificationEvidence(first, truth, classes),
                             ClassificationEvidence(second, truth, classes), TopKParams(k=1),
                             seed=keyed_seed(built) if seed is None else seed)


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

    table = leaderboard_table(toonnet, view="all")
    assert [row.submission.pk for row in table.rows] == [better.pk, worse.pk]
    direct = direct_test(toonnet_built, better_scores, worse_scores)
    assert direct.difference == pytest.approx(-2 / 72) and direct.p_value >= 0.05
    second = table.rows[1]
    assert second.tied_with_above and second.p_vs_above == direct.p_value
    stored = PairedComparison.objects.get(metric="top1_error", first=better.result, second=worse.result)
    assert (stored.state, stored.trigger) == (ComparisonState.DONE, ComparisonTrigger.RESULT)  # made by the worker
    assert (stored.p_value, stored.method) == (direct.p_value, "bootstrap")
    assert (stored.difference, stored.low, stored.high) == pytest.approx((direct.difference, direct.low, direct.high))

    html = client.get("/benchmarks/toonnet/?view=all").content.decode()
    assert (f'title="top1_error: not significantly different from the entry above (paired test on the same '
            f'test items, p = {direct.p_value:.3g})">=</span>2') in html
    record = client.get("/api/benchmarks/toonnet/leaderboard/?view=all").json()["rows"]
    assert [(row["tied_with_above"], row["p_vs_above"]) for row in record] == [(False, None), (True, direct.p_value)]
    export = client.get("/api/benchmarks/toonnet/leaderboard/?format=csv&view=all").content.decode()
    exported = list(csv.DictReader(io.StringIO(export)))
    assert [(row["tied_with_above"], row["p_vs_above"]) for row in exported] == [
        ("False", ""), ("True", repr(direct.p_value))]
    assert PairedComparison.objects.filter(metric="top1_error").count() == 1  # three renders, no computation


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

    row = leaderboard_table(toonnet, view="all").rows[1]
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
    PairedComparison.objects.all().delete()
    assert comparisons.compare_visible_neighbours() == 0

    row = leaderboard_table(toonnet, view="all").rows[1]
    assert row.tied_with_above and row.p_vs_above is None
    assert row.tie_fallback == "no per-item evidence stored for one of the two results"
    assert PairedComparison.objects.count() == 0
    html = client.get("/benchmarks/toonnet/?view=all").content.decode()
    assert ('title="top1_error: 95% interval overlaps the entry above (no per-item evidence stored for one of the '
            'two results; interval-overlap rule)">=</span>2') in html
    assert better.pk != worse.pk


def test_a_truncated_evidence_file_fails_the_comparison_once_and_the_page_falls_back(
    toonnet: Benchmark, alice: User, toonnet_built: BuiltBenchmark, tmp_path: Path, client: Client,
    caplog: pytest.LogCaptureFixture,
) -> None:
    damaged = evaluated(alice, toonnet, scores_with_hits(toonnet_built, hits_on_first(toonnet_built, 42)),
                        "damaged", tmp_path)
    path = Path(damaged.result.evidence.path)
    path.write_bytes(path.read_bytes()[:200])

    with caplog.at_level(logging.WARNING, logger="leaderboards.comparisons"):
        evaluated(alice, toonnet, scores_with_hits(toonnet_built, hits_on_first(toonnet_built, 30)), "worse", tmp_path)
    warnings = [record.getMessage() for record in caplog.records if record.name == "leaderboards.comparisons"]
    assert len(warnings) == 2 and not any("\n" in warning for warning in warnings)  # top-1 and top-3 error
    assert warnings[0].startswith("paired test of top1_error between results #")
    assert f"evidence of result #{damaged.result.pk}: evidence archive unreadable: BadZipFile" in warnings[0]

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="leaderboards.comparisons"):
        page = client.get("/benchmarks/toonnet/?view=all")
    assert page.status_code == 200 and not caplog.records  # stored: not tried again
    html = page.content.decode()
    assert "(the paired test could not be run; interval-overlap rule)\">=</span>2" in html
    stored = PairedComparison.objects.get(metric="top1_error")
    assert stored.state == ComparisonState.FAILED and stored.p_value is None and "BadZipFile" in stored.failure
    row = leaderboard_table(toonnet, view="all").rows[1]
    assert row.tied_with_above and row.p_vs_above is None


def test_a_comparison_that_raises_anything_is_stored_failed_and_the_page_renders(
    toonnet: Benchmark, alice: User, toonnet_built: BuiltBenchmark, tmp_path: Path, client: Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: object, **kwargs: object) -> PairedDifference:
        raise RuntimeError("the metric fell over")

    monkeypatch.setattr(comparisons, "compare_evidence", broken)
    evaluated(alice, toonnet, scores_with_hits(toonnet_built, hits_on_first(toonnet_built, 42)), "better", tmp_path)
    worse = evaluated(alice, toonnet, scores_with_hits(toonnet_built, hits_on_first(toonnet_built, 30)), "worse",
                      tmp_path)
    assert worse.status == Status.FINISHED
    stored = PairedComparison.objects.get(metric="top1_error")
    assert (stored.state, stored.failure) == (ComparisonState.FAILED, "RuntimeError: the metric fell over")
    page = client.get("/benchmarks/toonnet/?view=all")
    assert page.status_code == 200
    assert "(the paired test could not be run; interval-overlap rule)\">=</span>2" in page.content.decode()
    assert client.get("/api/benchmarks/toonnet/leaderboard/").status_code == 200


def test_storing_a_result_again_replaces_its_evidence_and_drops_its_comparisons(
    toonnet: Benchmark, alice: User, toonnet_built: BuiltBenchmark, tmp_path: Path
) -> None:
    evaluated(alice, toonnet, scores_with_hits(toonnet_built, hits_on_first(toonnet_built, 42)), "better", tmp_path)
    worse = evaluated(alice, toonnet, scores_with_hits(toonnet_built, hits_on_first(toonnet_built, 30)), "worse",
                      tmp_path)
    before = set(PairedComparison.objects.values_list("pk", flat=True))
    assert len(before) == 2  # top-1 and top-3 error
    old = Path(worse.result.evidence.path)
    request = evaluation.evaluation_request(worse, Path(worse.artefact.path))
    assert evaluation.run_evaluation(request, evaluation.DjangoJobStore()) == Status.FINISHED
    result = Result.objects.get(submission=worse)
    assert result.evidence.name and Path(result.evidence.path) != old and not old.exists()
    after = set(PairedComparison.objects.values_list("pk", flat=True))
    assert len(after) == 2 and not before & after  # made again from the new evidence


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


def one_more_hit(built: BuiltBenchmark, item: int) -> np.ndarray:
    """The scores of ``hits_on_first(built, 40)`` changed on ``item`` alone, which becomes a hit."""
    hits = hits_on_first(built, 40)
    hits[item] = True
    return scores_with_hits(built, hits)


def test_public_p_values_do_not_say_which_of_two_items_carries_the_label(
    toonnet: Benchmark, alice: User, toonnet_built: BuiltBenchmark, tmp_path: Path, client: Client
) -> None:
    # An attacker keeps one submission and sends another that changes items 50 and 60: exactly one change is
    # right, so the two differ on one item. Which one? With a public seed the p-value says (issue 16, item 5).
    base = scores_with_hits(toonnet_built, hits_on_first(toonnet_built, 40))
    evaluated(alice, toonnet, base, "kept", tmp_path)
    public = {item: direct_test(toonnet_built, one_more_hit(toonnet_built, item), base, seed=0) for item in (50, 60)}
    assert public[50].p_value != public[60].p_value  # what an outsider could compute for each hypothesis

    published = {}
    for item in (50, 60):
        probe = evaluated(alice, toonnet, one_more_hit(toonnet_built, item), f"item {item} right", tmp_path)
        rows = client.get("/api/benchmarks/toonnet/leaderboard/?view=all").json()["rows"]
        assert [row["submission"] for row in rows][0] == probe.pk
        stored = PairedComparison.objects.get(metric="top1_error", first=probe.result)
        published[item] = (rows[1]["p_vs_above"], stored.low, stored.high, probe.result.ci95["top1_error"])
        probe.delete()

    definition, params = METRICS.get("topk_error"), TopKParams(k=1)
    truth, classes = true_class_indices(toonnet_built), tuple(toonnet_built.spec.classes)
    for item in (50, 60):
        keyed = direct_test(toonnet_built, one_more_hit(toonnet_built, item), base)
        p_value, low, high, interval = published[item]
        assert p_value == keyed.p_value  # the operator, who holds the secret, reproduces it
        assert p_value not in (public[50].p_value, public[60].p_value)  # the public seed reproduces neither case
        assert (low, high) == pytest.approx((keyed.low, keyed.high))
        evidence = ClassificationEvidence(one_more_hit(toonnet_built, item), truth, classes)
        from_secret = metric_interval(definition, evidence, params, seed=keyed_seed(toonnet_built))
        assert interval == pytest.approx(list(from_secret))


def test_rendering_a_leaderboard_never_computes_a_comparison(
    toonnet: Benchmark, alice: User, toonnet_built: BuiltBenchmark, tmp_path: Path, client: Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    evaluated(alice, toonnet, scores_with_hits(toonnet_built, hits_on_first(toonnet_built, 42)), "better", tmp_path)
    evaluated(alice, toonnet, scores_with_hits(toonnet_built, hits_on_first(toonnet_built, 30)), "worse", tmp_path)
    PairedComparison.objects.all().delete()  # as if the worker's task had not run yet
    calls = []
    compare = comparisons.compare_evidence
    monkeypatch.setattr(comparisons, "compare_evidence", lambda *a, **k: calls.append(a) or compare(*a, **k))

    for path in ("/benchmarks/toonnet/", "/api/benchmarks/toonnet/leaderboard/",
                 "/api/benchmarks/toonnet/leaderboard/?format=csv", "/benchmarks/toonnet/?sort=top3_error"):
        assert client.get(path).status_code == 200
    assert calls == [] and PairedComparison.objects.count() == 0
    assert leaderboard_table(toonnet, view="all").rows[1].tie_fallback == "the paired test has not been computed yet"

    assert sweep_stale_jobs()["compared"] == 2  # the maintenance pass: top-1 and top-3 error
    assert len(calls) == 2 and leaderboard_table(toonnet, view="all").rows[1].p_vs_above is not None


def test_the_sweep_command_makes_the_comparisons_left_for_maintenance(
    toonnet: Benchmark, alice: User, toonnet_built: BuiltBenchmark, tmp_path: Path,
) -> None:
    evaluated(alice, toonnet, scores_with_hits(toonnet_built, hits_on_first(toonnet_built, 42)), "better", tmp_path)
    evaluated(alice, toonnet, scores_with_hits(toonnet_built, hits_on_first(toonnet_built, 30)), "worse", tmp_path)
    PairedComparison.objects.all().delete()
    out = io.StringIO()
    call_command("sweep_stale_jobs", stdout=out)
    assert "compared 2 leaderboard neighbour pairs" in out.getvalue()
    assert leaderboard_table(toonnet, view="all").rows[1].p_vs_above is not None


def test_two_workers_claiming_the_same_pair_compute_it_once(
    toonnet: Benchmark, alice: User, toonnet_built: BuiltBenchmark, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    evaluated(alice, toonnet, scores_with_hits(toonnet_built, hits_on_first(toonnet_built, 42)), "better", tmp_path)
    worse = evaluated(alice, toonnet, scores_with_hits(toonnet_built, hits_on_first(toonnet_built, 30)), "worse",
                      tmp_path)
    PairedComparison.objects.all().delete()
    one_returned, start = threading.Event(), threading.Barrier(2)
    calls = []
    compare = comparisons.compare_evidence

    def held(*args: object, **kwargs: object) -> PairedDifference:
        """Compute only once the other worker has given up on the pair (so both tried while it was pending)."""
        calls.append(args[0])
        one_returned.wait(timeout=30)
        return compare(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(comparisons, "compare_evidence", held)
    made: list[int] = []
    protocol = toonnet.current_version()
    pair = comparisons.adjacent(protocol, "top1_error")
    assert len(pair) == 1 and pair[0].below == worse.result.pk

    def worker() -> None:
        start.wait(timeout=30)
        try:
            made.append(comparisons.compare_pairs(protocol, "top1_error", pair, ComparisonTrigger.RESULT))
        finally:
            one_returned.set()
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(made) == [0, 1] and calls == ["topk_error"]
    assert list(PairedComparison.objects.values_list("metric", "state")) == [("top1_error", ComparisonState.DONE)]


def test_hiding_and_republishing_buys_no_more_than_the_daily_allowance(
    toonnet: Benchmark, alice: User, toonnet_built: BuiltBenchmark, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(comparisons, "VISIBILITY_PAIRS_PER_DAY", 2)
    rows = [evaluated(alice, toonnet, scores_with_hits(toonnet_built, hits_on_first(toonnet_built, count)),
                      f"{count} hits", tmp_path) for count in (50, 45, 40, 35)]
    assert PairedComparison.objects.filter(trigger=ComparisonTrigger.RESULT).count() == 6  # 3 pairs x 2 metrics

    Submission.objects.filter(pk__in=[rows[1].pk, rows[2].pk]).update(is_public=False)
    assert comparisons.compare_visible_neighbours() == 2  # (50, 35) on both metrics: the allowance is spent
    Submission.objects.filter(pk=rows[2].pk).update(is_public=True)  # (50, 40) is new, (40, 35) is kept
    assert comparisons.compare_visible_neighbours() == 0
    table = leaderboard_table(toonnet, view="all")
    assert [row.submission.pk for row in table.rows] == [rows[0].pk, rows[2].pk, rows[3].pk]
    assert table.rows[1].tie_fallback == "the paired test has not been computed yet"
    assert table.rows[2].p_vs_above is not None

    Submission.objects.filter(pk=rows[1].pk).update(is_public=True)  # every pair of the full table is stored
    assert comparisons.compare_visible_neighbours() == 0
    assert all(row.p_vs_above is not None for row in leaderboard_table(toonnet, view="all").rows[1:])

    PairedComparison.objects.update(created=timezone.now() - timedelta(days=1, minutes=1))
    Submission.objects.filter(pk=rows[1].pk).update(is_public=False)
    assert comparisons.compare_visible_neighbours() == 2  # a day later: (50, 40) on both metrics
