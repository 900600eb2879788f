"""Failure reasons shown on public submissions never contain host paths.

Before, a predictions file of the wrong shape failed with the worker's
scratch folder in the reason (``/var/.../jobs/toonbench-job-7-x1y2/output/
scores.npy: shape ...``), shown to everyone on the submission page. Reasons
are now cleaned where they are stored; container paths (``/output``) stay,
because they tell the submitter what to fix.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files import File
from django.test import Client
from pytest_django.fixtures import Settings

from benchmarks.models import Benchmark
from datasets.build import BuiltBenchmark
from hostile_archives import zip_entries
from jobs import evaluation
from submissions.models import Status, Submission
from jobs.reasons import public_reason
from toonnet_outputs import predictions_zip, seeded_scores

pytestmark = pytest.mark.django_db(transaction=True)


def stored_predictions(owner: User, benchmark: Benchmark, archive: Path) -> Submission:
    """A predictions submission stored as the site stores one (its archive is not re-checked here)."""
    submission = Submission(owner=owner, benchmark=benchmark, protocol=benchmark.current_version(),
                            kind="predictions", method_name="public failure")
    with open(archive, "rb") as handle:
        submission.artefact.save("predictions.zip", File(handle), save=False)
    submission.save()
    return submission


def public_views(submission: Submission) -> str:
    """Everything an anonymous visitor can read about the submission."""
    anonymous = Client()
    pages = [anonymous.get(f"/submissions/{submission.pk}/"), anonymous.get(f"/submissions/{submission.pk}/status.json"),
             anonymous.get(f"/api/submissions/{submission.pk}/")]
    assert [page.status_code for page in pages] == [200, 200, 200]
    return "\n".join(page.content.decode() for page in pages)


def host_folders(site: Settings, tmp_path: Path) -> list[str]:
    return [str(tmp_path), str(site.TOONBENCH_WORK_ROOT), str(site.TOONBENCH_DATA_ROOT), str(site.MEDIA_ROOT),
            str(site.REPO_ROOT), "/tmp/"]


def test_a_wrong_shape_names_the_container_path_not_the_scratch_folder(
    site: Settings, toonnet: Benchmark, alice: User, toonnet_built: BuiltBenchmark, tmp_path: Path
) -> None:
    wrong_shape = seeded_scores(toonnet_built)[:, :5]
    submission = stored_predictions(alice, toonnet, predictions_zip(tmp_path / "p.zip", wrong_shape))
    assert evaluation.evaluate(submission.pk) == Status.FAILED
    submission.refresh_from_db()
    assert submission.status_reason.startswith("/output/scores.npy: ")
    seen = public_views(submission)
    assert "/output/scores.npy" in seen
    for folder in host_folders(site, tmp_path):
        assert folder not in seen and json.dumps(folder)[1:-1] not in seen


def test_an_unexpected_error_keeps_its_kind_but_loses_the_host_path(
    site: Settings, toonnet: Benchmark, alice: User, toonnet_built: BuiltBenchmark, tmp_path: Path
) -> None:
    submission = stored_predictions(alice, toonnet, predictions_zip(tmp_path / "p.zip", seeded_scores(toonnet_built)))
    Path(submission.artefact.path).unlink()
    assert evaluation.evaluate(submission.pk) == Status.FAILED
    submission.refresh_from_db()
    assert submission.status_reason.startswith("evaluation error: FileNotFoundError: [Errno 2] No such file or directory: '<media>/artefacts/toonnet/")
    for folder in host_folders(site, tmp_path):
        assert folder not in public_views(submission)


def test_a_worker_without_the_benchmark_says_so_without_its_data_root(
    site: Settings, toonnet: Benchmark, alice: User, toonnet_built: BuiltBenchmark, tmp_path: Path
) -> None:
    submission = stored_predictions(alice, toonnet, predictions_zip(tmp_path / "p.zip", seeded_scores(toonnet_built)))
    site.TOONBENCH_DATA_ROOT = tmp_path / "no-data-here"
    assert evaluation.evaluate(submission.pk) == Status.FAILED
    submission.refresh_from_db()
    assert submission.status_reason == (
        "the benchmark 'toonnet' is not built on this worker; the worker's log has the details"
    )


def test_a_hostile_archive_stored_before_the_checks_fails_its_job_cleanly(
    site: Settings, toonnet: Benchmark, alice: User, tmp_path: Path
) -> None:
    archive = tmp_path / "dot.zip"
    archive.write_bytes(zip_entries([".", "scores.npy"]))
    submission = stored_predictions(alice, toonnet, archive)
    assert evaluation.evaluate(submission.pk) == Status.FAILED
    submission.refresh_from_db()
    assert submission.status_reason.endswith(".zip: member '.' has a '.' path component")


@pytest.mark.parametrize(
    ("reason", "shown"),
    [
        ("the submission wrote more than 20 MB to /output", "the submission wrote more than 20 MB to /output"),
        ("/input/manifest.json is read-only", "/input/manifest.json is read-only"),
        ("pull registry.example.org/team/model:1 from https://registry.example.org/v2/ failed; 3/4 layers",
         "pull registry.example.org/team/model:1 from https://registry.example.org/v2/ failed; 3/4 layers"),
        ("cannot open '/etc/toonbench/registry.key'", "cannot open '<path>'"),
        ("disk full under /srv/scratch/toonbench-job-9-abc12345/output", "disk full under /output"),
    ],
)
def test_public_reasons_keep_container_paths_and_urls(site: Settings, reason: str, shown: str) -> None:
    assert public_reason(reason) == shown


def test_public_reasons_name_the_roots_neutrally(site: Settings, tmp_path: Path) -> None:
    text = f"{site.TOONBENCH_DATA_ROOT}/toonnet/manifest.jsonl and {site.TOONBENCH_WORK_ROOT}/leftover"
    assert public_reason(text) == "<data>/toonnet/manifest.jsonl and <work>/leftover"
