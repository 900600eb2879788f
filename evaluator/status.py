"""The one status vocabulary: how an evaluation job stands, and how a run of a submission ended.

``JobStatus`` is what a submission's job goes through (the site's
``Submission.status`` choices are built from it); ``RunOutcome`` is how a
runner's run ended: the job's final statuses but ``scoring``'s neighbours,
plus ``output_too_large``, which fails the job.
"""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SCORING = "scoring"
    FINISHED = "finished"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    OUT_OF_MEMORY = "out_of_memory"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        """The status in words (``Timed out``)."""
        return self.value.replace("_", " ").capitalize()


ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SCORING)
IN_PROGRESS_STATUSES = (JobStatus.RUNNING, JobStatus.SCORING)
FINAL_STATUSES = (
    JobStatus.FINISHED,
    JobStatus.FAILED,
    JobStatus.TIMED_OUT,
    JobStatus.OUT_OF_MEMORY,
    JobStatus.CANCELLED,
)


class RunOutcome(StrEnum):
    FINISHED = JobStatus.FINISHED.value
    FAILED = JobStatus.FAILED.value
    TIMED_OUT = JobStatus.TIMED_OUT.value
    OUT_OF_MEMORY = JobStatus.OUT_OF_MEMORY.value
    CANCELLED = JobStatus.CANCELLED.value
    OUTPUT_TOO_LARGE = "output_too_large"


def job_status_of(outcome: RunOutcome) -> JobStatus:
    """The job status a run's outcome ends the job with (an output over the cap fails it)."""
    return JobStatus(outcome) if outcome in JobStatus._value2member_map_ else JobStatus.FAILED
