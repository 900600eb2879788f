"""One status vocabulary: the site's choices, the job code and the CLI all read ``evaluator.status``."""

from __future__ import annotations

from evaluator.status import FINAL_STATUSES, JobStatus, RunOutcome, job_status_of
from submissions import models
from toonbench_cli import submissions as cli


def test_the_site_choices_are_the_job_statuses_with_their_labels() -> None:
    assert models.Status.choices == [(status.value, status.label) for status in JobStatus]
    assert models.Status.TIMED_OUT.label == "Timed out" and models.Status.OUT_OF_MEMORY == "out_of_memory"
    assert set(models.FINAL_STATUSES) == set(FINAL_STATUSES)
    assert set(models.IN_PROGRESS_STATUSES) == {"running", "scoring"}


def test_run_outcomes_are_job_statuses_but_an_output_over_the_cap_which_fails_the_job() -> None:
    assert {outcome.value for outcome in RunOutcome} - {status.value for status in JobStatus} == {"output_too_large"}
    assert job_status_of(RunOutcome.OUTPUT_TOO_LARGE) == JobStatus.FAILED
    assert job_status_of(RunOutcome.TIMED_OUT) == JobStatus.TIMED_OUT


def test_the_cli_waits_for_the_same_final_statuses() -> None:
    assert cli.FINAL_STATUSES == {status.value for status in FINAL_STATUSES}
