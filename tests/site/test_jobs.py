"""Evaluation jobs end to end: a real LocalRunner, real predictions archives, the real database."""

from __future__ import annotations

import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from django.core.files import File
from django.contrib.auth.models import User
from django.utils import timezone
from pytest_django.fixtures import Settings
from sklearn.metrics import top_k_accuracy_score

from benchmarks.models import Benchmark
from datasets.build import BuiltBenchmark
from evaluator.archives import ArchiveError, ArchiveLimits, extract_predictions
from evaluator.jobs import EvaluationRequest, run_evaluation
from jobs import evaluation, queueing
from results.models import Result
from submissions import actions
from submissions.models import Status, Submission
from toonbench_site.celery import app as celery_app
from toonnet_outputs import predictions_zip, seeded_scores, true_class_indices

pytestmark = pytest.mark.django_db(transaction=True)

# A stand-in model: random scores for the ids in /input/manifest.json (it never sees a label).
RANDOM_SCORES_COMMAND = r"""
import json, sys, time, numpy as np
manifest = json.load(open(sys.argv[1] + "/manifest.json"))
time.sleep(float(sys.argv[3]))
rng = np.random.default_rng(11)
scores = rng.random((len(manifest["items"]), len(manifest["classes"]))).astype(np.float32)
np.save(sys.argv[2] + "/scores.npy", scores)
print("wrote", scores.shape)
"""


def expected_errors(scores: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Top-1 and top-3 error by scikit-learn (no ties: scores are random floats)."""
    labels = list(range(scores.shape[1]))
    return {
        "top1_error": 1 - top_k_accuracy_score(truth, scores, k=1, labels=labels),
        "top3_error": 1 - top_k_accuracy_score(truth, scores, k=3, labels=labels),
    }


def command_submission(owner: User, benchmark: Benchmark, sleep_s: float = 0.0) -> Submission:
    return Submission.objects.create(
        owner=owner, benchmark=benchmark, protocol=benchmark.current_version(), kind="local",
        command=[sys.executable, "-c", RANDOM_SCORES_COMMAND, "{input}", "{output}", str(sleep_s)],
        method_name="random scores", is_baseline=True,
    )


def predictions_submission(owner: User, benchmark: Benchmark, archive: Path) -> Submission:
    submission = Submission(
        owner=owner, benchmark=benchmark, protocol=benchmark.current_version(), kind="predictions",
        method_name="uploaded scores",
    )
    with open(archive, "rb") as handle:
        submission.artefact.save("predictions.zip", File(handle), save=False)
    submission.save()
    return submission


def test_a_local_command_is_run_scored_and_stored(
    toonnet: Benchmark, alice: User, toonnet_built: BuiltBenchmark
) -> None:
    submission = command_submission(alice, toonnet)
    assert evaluation.evaluate(submission.pk, worker="test-worker") == Status.FINISHED
    submission.refresh_from_db()
    assert submission.status == Status.FINISHED and submission.attempts == 1
    assert submission.worker == "test-worker" and submission.finished_at is not None
    assert "wrote (72, 12)" in submission.log_tail
    scores = np.random.default_rng(11).random((72, 12)).astype(np.float32)
    expected = expected_errors(scores, true_class_indices(toonnet_built))
    result = Result.objects.get(submission=submission)
    assert result.metrics == pytest.approx(expected)
    assert result.protocol_hash == toonnet_built.protocol_hash
    low, high = result.ci95["top1_error"]
    assert low <= expected["top1_error"] <= high
    assert submission.metric_values.get(name="top3_error").value == pytest.approx(expected["top3_error"])


def test_a_predictions_archive_is_scored_without_running_anything(
    toonnet: Benchmark, alice: User, toonnet_built: BuiltBenchmark, tmp_path: Path
) -> None:
    scores = seeded_scores(toonnet_built)
    submission = predictions_submission(alice, toonnet, predictions_zip(tmp_path / "p.zip", scores, folder="output"))
    assert evaluation.evaluate(submission.pk) == Status.FINISHED
    result = Result.objects.get(submission=submission)
    assert result.metrics == pytest.approx(expected_errors(scores, true_class_indices(toonnet_built)))


def test_running_a_job_twice_stores_one_result(
    toonnet: Benchmark, alice: User, toonnet_built: BuiltBenchmark, tmp_path: Path
) -> None:
    scores = seeded_scores(toonnet_built)
    submission = predictions_submission(alice, toonnet, predictions_zip(tmp_path / "p.zip", scores))
    assert evaluation.evaluate(submission.pk) == Status.FINISHED
    assert evaluation.evaluate(submission.pk) == "skipped"
    request = evaluation.evaluation_request(submission, Path(submission.artefact.path))
    assert run_evaluation(request, evaluation.DjangoJobStore()) == Status.FINISHED
    assert Result.objects.filter(submission=submission).count() == 1
    assert submission.metric_values.count() == 2
    assert Submission.objects.get(pk=submission.pk).attempts == 1


def test_a_command_that_fails_ends_the_job_failed_with_its_log(toonnet: Benchmark, alice: User) -> None:
    submission = command_submission(alice, toonnet)
    Submission.objects.filter(pk=submission.pk).update(
        command=["python", "-c", "import sys; print('model weights missing'); sys.exit(3)"]
    )
    assert evaluation.evaluate(submission.pk) == Status.FAILED
    submission.refresh_from_db()
    assert submission.status_reason == "the command exited with status 3"
    assert "model weights missing" in submission.log_tail
    assert not Result.objects.exists()


def test_bad_output_fails_with_the_validation_message(
    toonnet: Benchmark, alice: User, toonnet_built: BuiltBenchmark, tmp_path: Path
) -> None:
    wrong_shape = seeded_scores(toonnet_built)[:, :5]
    submission = predictions_submission(alice, toonnet, predictions_zip(tmp_path / "p.zip", wrong_shape))
    assert evaluation.evaluate(submission.pk) == Status.FAILED
    submission.refresh_from_db()
    assert "scores.npy" in submission.status_reason and "12" in submission.status_reason


def test_an_exception_inside_the_job_ends_it_failed_with_a_reason(
    toonnet: Benchmark, alice: User, toonnet_built: BuiltBenchmark, tmp_path: Path
) -> None:
    archive = predictions_zip(tmp_path / "p.zip", seeded_scores(toonnet_built))
    submission = predictions_submission(alice, toonnet, archive)
    Path(submission.artefact.path).unlink()
    assert evaluation.evaluate(submission.pk) == Status.FAILED
    submission.refresh_from_db()
    assert submission.status_reason.startswith("evaluation error: FileNotFoundError")
    assert submission.finished_at is not None


def test_a_job_for_another_protocol_fails_instead_of_scoring_a_different_split(
    toonnet: Benchmark, alice: User
) -> None:
    submission = command_submission(alice, toonnet)
    version = toonnet.current_version()
    version.protocol_hash = "0" * 64
    version.save()
    assert evaluation.evaluate(submission.pk) == Status.FAILED
    assert "resubmit to the current protocol" in Submission.objects.get(pk=submission.pk).status_reason


def test_cancelling_a_running_job_stops_its_command(toonnet: Benchmark, alice: User) -> None:
    submission = command_submission(alice, toonnet, sleep_s=60)
    outcome: list[str] = []
    worker = threading.Thread(target=lambda: outcome.append(evaluation.evaluate(submission.pk)))
    worker.start()
    deadline = time.monotonic() + 30
    while Submission.objects.get(pk=submission.pk).status != Status.RUNNING and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)
    cancelled_at = time.monotonic()
    assert actions.cancel_submission(submission)
    worker.join(timeout=30)
    assert outcome == [Status.CANCELLED]
    assert time.monotonic() - cancelled_at < 10
    submission.refresh_from_db()
    assert submission.status == Status.CANCELLED and submission.status_reason == "cancelled by its owner"
    assert not Result.objects.exists()


def test_a_cancelled_queued_job_is_never_started(toonnet: Benchmark, alice: User) -> None:
    submission = command_submission(alice, toonnet)
    assert actions.cancel_submission(submission)
    assert evaluation.evaluate(submission.pk) == "skipped"
    assert Submission.objects.get(pk=submission.pk).attempts == 0


def test_a_redelivered_job_is_claimed_only_when_its_heartbeat_is_stale(
    toonnet: Benchmark, alice: User, site: Settings
) -> None:
    submission = command_submission(alice, toonnet)
    assert evaluation.claim_job(submission.pk, worker="first") is not None
    assert evaluation.claim_job(submission.pk, worker="second") is None
    Submission.objects.filter(pk=submission.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=60))
    assert evaluation.claim_job(submission.pk, worker="second") is not None
    submission.refresh_from_db()
    assert (submission.worker, submission.attempts, submission.status) == ("second", 2, Status.RUNNING)


@pytest.fixture
def eager_jobs() -> Iterator[None]:
    """Queued jobs run at once in this process, through the real task."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def test_the_sweep_requeues_a_dead_job_then_gives_up_after_the_bound(
    toonnet: Benchmark, alice: User, site: Settings, eager_jobs: None
) -> None:
    submission = command_submission(alice, toonnet)
    assert evaluation.claim_job(submission.pk, worker="died") is not None
    long_ago = timezone.now() - timedelta(seconds=60)
    Submission.objects.filter(pk=submission.pk).update(heartbeat_at=long_ago)

    report = queueing.sweep_and_requeue()
    assert report.requeued == [submission.pk] and report.failed == []
    submission.refresh_from_db()
    assert submission.status == Status.FINISHED and submission.attempts == 2
    assert Result.objects.filter(submission=submission).count() == 1

    Submission.objects.filter(pk=submission.pk).update(status=Status.RUNNING, heartbeat_at=long_ago)
    report = queueing.sweep_and_requeue()
    assert report.failed == [submission.pk] and report.requeued == []
    submission.refresh_from_db()
    assert submission.status == Status.FAILED
    assert "stopped responding 2 times" in submission.status_reason


def test_the_sweep_leaves_jobs_with_a_fresh_heartbeat_alone(
    toonnet: Benchmark, alice: User, site: Settings
) -> None:
    submission = command_submission(alice, toonnet)
    evaluation.claim_job(submission.pk)
    report = evaluation.sweep_stale_jobs()
    assert report.requeued == [] and report.failed == []
    assert Submission.objects.get(pk=submission.pk).status == Status.RUNNING


def zip_with(path: Path, members: dict[str, bytes], link: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
        if link is not None:
            info = zipfile.ZipInfo(link)
            info.external_attr = (0o120777 << 16)
            bundle.writestr(info, "/etc/passwd")
    return path


LIMITS = ArchiveLimits(max_files=4, max_bytes=8 * 1024 * 1024)


@pytest.mark.parametrize(
    ("members", "link", "message"),
    [
        ({"../escape.npy": b"x"}, None, "unsafe path"),
        ({"/tmp/absolute.npy": b"x"}, None, "unsafe path"),
        ({"output/../../escape.npy": b"x"}, None, "unsafe path"),
        ({}, "scores.npy", "is a link"),
        ({f"f{i}.npy": b"x" for i in range(5)}, None, "5 files in the archive, expected at most 4"),
        ({"scores.npy": bytes(9 * 1024 * 1024)}, None, "unpacks to 9.0 MB"),
        ({"scores.npy": bytes(4 * 1024 * 1024)}, None, "zip bomb"),
    ],
    ids=["parent", "absolute", "nested-parent", "symlink", "too-many-files", "too-large", "compression-ratio"],
)
def test_unsafe_predictions_archives_are_refused(
    tmp_path: Path, members: dict[str, bytes], link: str | None, message: str
) -> None:
    archive = zip_with(tmp_path / "bad.zip", members, link)
    output = tmp_path / "job" / "output"
    output.mkdir(parents=True)
    with pytest.raises(ArchiveError, match=message):
        extract_predictions(archive, output, LIMITS)
    assert list(output.iterdir()) == []
    assert not (tmp_path / "escape.npy").exists() and not (tmp_path / "job" / "escape.npy").exists()


def test_an_archive_that_is_not_a_zip_is_refused_with_its_name(tmp_path: Path) -> None:
    archive = tmp_path / "scores.zip"
    archive.write_bytes(b"not a zip")
    with pytest.raises(ArchiveError, match="scores.zip: not a readable zip archive"):
        extract_predictions(archive, tmp_path, LIMITS)


def test_a_traversal_archive_fails_the_submission_with_the_reason(
    toonnet: Benchmark, alice: User, tmp_path: Path
) -> None:
    archive = zip_with(tmp_path / "bad.zip", {"../../scores.npy": b"x"})
    submission = predictions_submission(alice, toonnet, archive)
    assert evaluation.evaluate(submission.pk) == Status.FAILED
    assert "unsafe path" in Submission.objects.get(pk=submission.pk).status_reason


def test_a_request_can_run_without_a_database(
    toonnet_built: BuiltBenchmark, data_root: Path, tmp_path: Path
) -> None:
    from evaluator.jobs import MemoryJobStore

    store = MemoryJobStore()
    archive = predictions_zip(tmp_path / "p.zip", seeded_scores(toonnet_built))
    request = EvaluationRequest(
        job_id="1", slug="toonnet", kind="predictions", data_root=data_root, predictions=archive
    )
    assert run_evaluation(request, store) == "finished"
    assert store.results["1"].metrics == pytest.approx(
        expected_errors(seeded_scores(toonnet_built), true_class_indices(toonnet_built))
    )


@pytest.fixture(scope="module")
def tight_limits(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data root whose toonnet spec allows 3 s of run time and 1 MB of output."""
    import yaml

    import datasets.spec
    from datasets.build import build_benchmark
    from toonnet_outputs import copy_specs

    folder = copy_specs(tmp_path_factory.mktemp("specs") / "benchmarks")
    spec_file = folder / "toonnet.yaml"
    document = yaml.safe_load(spec_file.read_text())
    document["limits"].update({"timeout_s": 3, "output_mb": 1})
    spec_file.write_text(yaml.safe_dump(document))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(datasets.spec, "BENCHMARKS_DIR", folder)
        root = tmp_path_factory.mktemp("tight-data")
        build_benchmark("toonnet", root, profile="tiny")
        yield root


@pytest.mark.parametrize(
    ("program", "status", "reason"),
    [
        ("import time; time.sleep(60)", "timed_out", "longer than the limit of 3 s"),
        ("import sys; open(sys.argv[2] + '/big.bin', 'wb').write(bytes(3 << 20))", "failed", "limit of 1 MB"),
    ],
    ids=["timeout", "output-too-large"],
)
def test_a_run_over_the_spec_limits_ends_with_the_limit_in_the_reason(
    tight_limits: Path, program: str, status: str, reason: str
) -> None:
    from evaluator.jobs import MemoryJobStore
    from evaluator.runners import LocalRunner

    store = MemoryJobStore()
    request = EvaluationRequest(
        job_id="1", slug="toonnet", kind="local", data_root=tight_limits, heartbeat_interval_s=0.2
    )
    runner = LocalRunner([sys.executable, "-c", program, "{input}", "{output}"])
    started = time.monotonic()
    assert run_evaluation(request, store, runner) == status
    assert reason in store.fields["1"]["reason"]
    assert time.monotonic() - started < 30
    assert "1" not in store.results
