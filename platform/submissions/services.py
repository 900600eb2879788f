"""Creating submissions: the one place views, the API and commands go through.

``create_submission`` checks the quota and the current protocol, stores the
artefact first, then queues the evaluation once the row is committed.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.db import transaction

from benchmarks.models import Benchmark
from submissions.jobs import queue_on_commit
from submissions.models import Kind, Submission
from submissions.quota import check_quota


class SubmissionRefused(Exception):
    """The submission cannot be accepted; the message says why."""


def create_submission(
    owner: AbstractBaseUser,
    benchmark: Benchmark,
    kind: str,
    method_name: str,
    *,
    artefact: File | None = None,
    image_ref: str = "",
    command: list[str] | None = None,
    is_baseline: bool = False,
    queue: bool = True,
    **details: Any,
) -> Submission:
    """Store a submission against the benchmark's current protocol and queue its job.

    ``details`` are optional model fields (description, paper_url, code_url,
    is_public). Raises ``QuotaExceeded`` or ``SubmissionRefused``.
    """
    if kind not in Kind.values:
        raise SubmissionRefused(f"unknown submission kind {kind!r} (expected one of {', '.join(Kind.values)})")
    protocol = benchmark.current_version()
    if protocol is None:
        raise SubmissionRefused(f"benchmark {benchmark.slug!r} has no built protocol yet; ask an administrator")
    if kind in (Kind.TARBALL, Kind.PREDICTIONS) and artefact is None:
        raise SubmissionRefused(f"a {kind} submission needs an uploaded file")
    if kind == Kind.IMAGE and not image_ref:
        raise SubmissionRefused("an image submission needs an image reference (registry/name:tag)")
    if kind == Kind.LOCAL and not command:
        raise SubmissionRefused("a local submission needs a command")
    if not is_baseline:
        check_quota(owner, benchmark)
    with transaction.atomic():
        submission = Submission(
            owner=owner,
            benchmark=benchmark,
            protocol=protocol,
            kind=kind,
            method_name=method_name,
            image_ref=image_ref,
            command=list(command or []),
            is_baseline=is_baseline,
            **details,
        )
        if artefact is not None:
            submission.artefact.save(artefact.name or "upload", artefact, save=False)
        submission.save()
        if queue:
            queue_on_commit(submission)
    return submission
