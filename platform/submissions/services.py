"""Creating submissions: the one place views, the API and commands go through.

``create_submission`` checks the current protocol, stores the artefact first,
then, in one transaction, takes the owner's quota lock, checks the quota
(``submissions.quota``) and saves the row; the evaluation is queued once
that commits.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.db import transaction

from benchmarks.models import Benchmark
from registry.attempts import TooManyFailedAttempts
from registry.policy import ImageRefused, pin_image
from submissions.queueing import queue_on_commit
from submissions.models import Kind, Submission
from submissions.quota import QuotaExceeded, check_quota, reserve_submission


class SubmissionRefused(Exception):
    """The submission cannot be accepted; the message says why."""


class RetryLater(QuotaExceeded):
    """Over a rate that frees up by itself (failed image pins); ``retry_after_s`` says when."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


def create_submission(
    owner: AbstractBaseUser,
    benchmark: Benchmark,
    kind: str,
    method_name: str,
    *,
    artefact: File | None = None,
    image_ref: str = "",
    resolved_ref: str = "",
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
    if kind == Kind.IMAGE:
        # What runs is the digest (a re-run passes the one it pinned), checked outside any transaction.
        resolved_ref = pinned_image(owner, resolved_ref or image_ref)
    submission = Submission(
        owner=owner,
        benchmark=benchmark,
        protocol=protocol,
        kind=kind,
        method_name=method_name,
        image_ref=image_ref,
        resolved_ref=resolved_ref,
        command=list(command or []),
        is_baseline=is_baseline,
        **details,
    )
    if artefact is not None:
        # Stored before the transaction, so the quota lock is never held while a big file is copied.
        submission.artefact.save(artefact.name or "upload", artefact, save=False)
    try:
        with transaction.atomic():
            if not is_baseline:
                reserve_submission(owner, benchmark)
            submission.save()
            if queue:
                queue_on_commit(submission)
    except BaseException:
        if submission.artefact:
            submission.artefact.delete(save=False)
        raise
    return submission


def pinned_image(owner: AbstractBaseUser, reference: str) -> str:
    """``host/repo@sha256:...`` for a reference the owner may run; raises ``SubmissionRefused`` or ``RetryLater``."""
    try:
        return pin_image(owner, reference).pinned
    except TooManyFailedAttempts as exc:
        raise RetryLater(str(exc), exc.retry_after_s) from None
    except ImageRefused as exc:
        raise SubmissionRefused(str(exc)) from None
