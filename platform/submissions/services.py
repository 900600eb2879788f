"""Creating submissions: the one place the submit page, the API, chunked uploads and commands go through.

``create_submission`` checks the current protocol, enters the submission for
the owner's team (``teams.services.team_of``; a re-run keeps the team of the
submission it repeats, while the owner is still in it), stores the artefact
first, then, in one transaction, takes the team's quota lock, checks the
quota (``submissions.quota``) and saves the row. On a benchmark with
competition phases it enters the phase named, else the one open now
(``submissions.phases``), and the quota is the phase's. Once that commits,
``submission_stored`` is sent and the ``jobs`` app queues the evaluation
(``jobs.apps``): intake never imports the job machinery.

A chunked upload goes through the same path: ``open_upload`` refuses an
upload that could not end in a submission today, and ``complete_upload``
runs the shared input check (``submissions.inputs.check_input``) on the
received bytes and hands them to ``create_submission``, whose quota check
is the one every path answers to.
"""

from __future__ import annotations

from typing import Any

from functools import partial

from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.dispatch import Signal

from benchmarks.models import Benchmark, Phase
from organisers.registration import may_submit
from registry.attempts import TooManyFailedAttempts
from registry.policy import ImageRefused, pin_image
from submissions.inputs import UploadRejected, check_input
from submissions.models import FILE_KINDS, Kind, Submission
from submissions.phases import PhaseClosed, entered_phase
from submissions.quota import QuotaExceeded, check_quota, reserve_submission
from teams.models import Team
from teams.services import is_member, team_of
from uploads.chunked import UploadError, completed_file, create_upload, expiry_hours
from uploads.models import ChunkedUpload

submission_stored = Signal()
"""Sent with ``submission_id`` once the transaction that stored a submission to be evaluated commits."""


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
    team: Team | None = None,
    phase: Phase | str | None = None,
    **details: Any,
) -> Submission:
    """Store a submission against the benchmark's current protocol and queue its job.

    The submission is the team's: ``team`` (a re-run's), else the owner's
    team now. ``phase`` (a phase or its slug) is the competition phase it
    enters, default the one open now. ``details`` are optional model fields (description, paper_url,
    code_url, is_public). Raises ``QuotaExceeded`` or ``SubmissionRefused``.
    """
    if kind not in Kind.values:
        raise SubmissionRefused(f"unknown submission kind {kind!r} (expected one of {', '.join(Kind.values)})")
    protocol = benchmark.current_version()
    if protocol is None:
        raise SubmissionRefused(f"benchmark {benchmark.slug!r} has no built protocol yet; ask an administrator")
    if kind in FILE_KINDS and artefact is None:
        raise SubmissionRefused(f"a {kind} submission needs an uploaded file")
    if kind == Kind.IMAGE and not image_ref:
        raise SubmissionRefused("an image submission needs an image reference (registry/name:tag)")
    if kind == Kind.LOCAL and not command:
        raise SubmissionRefused("a local submission needs a command")
    team = entering_team(owner, team)
    refusal = None if is_baseline else may_submit(owner, team, benchmark)
    if refusal is not None:
        raise SubmissionRefused(refusal)
    entered = intake_phase(benchmark, kind, phase, is_baseline)
    if not is_baseline:
        check_quota(team, benchmark, phase=entered)
    if kind == Kind.IMAGE:
        # What runs is the digest (a re-run passes the one it pinned), checked outside any transaction.
        resolved_ref = pinned_image(owner, resolved_ref or image_ref)
    submission = Submission(
        owner=owner,
        team=team,
        benchmark=benchmark,
        phase=entered,
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
                reserve_submission(team, benchmark, phase=entered)
            submission.save()
            if queue:
                transaction.on_commit(partial(submission_stored.send, sender=Submission, submission_id=submission.pk))
    except BaseException:
        if submission.artefact:
            submission.artefact.delete(save=False)
        raise
    return submission


def intake_phase(benchmark: Benchmark, kind: str, phase: Phase | str | None, is_baseline: bool = False) -> Phase | None:
    """The phase a submission enters now (``submissions.phases.entered_phase``), as a ``SubmissionRefused``."""
    try:
        return entered_phase(benchmark, kind, phase, timezone.now(), is_baseline)
    except PhaseClosed as exc:
        raise SubmissionRefused(str(exc)) from None


def entering_team(owner: AbstractBaseUser, team: Team | None = None) -> Team:
    """The team a new submission by ``owner`` is for: ``team`` while they are in it, else their team now."""
    if team is None:
        return team_of(owner)
    if not is_member(owner, team):
        raise SubmissionRefused(
            f"{owner.get_username()} is no longer in team {team.name!r}, which that submission was for; "
            f"submit anew to enter as team {team_of(owner).name!r}"
        )
    return team


def pinned_image(owner: AbstractBaseUser, reference: str) -> str:
    """``host/repo@sha256:...`` for a reference the owner may run; raises ``SubmissionRefused`` or ``RetryLater``."""
    try:
        return pin_image(owner, reference).pinned
    except TooManyFailedAttempts as exc:
        raise RetryLater(str(exc), exc.retry_after_s) from None
    except ImageRefused as exc:
        raise SubmissionRefused(str(exc)) from None


def open_upload(
    owner: AbstractBaseUser, benchmark: Benchmark, kind: str, filename: str, total_bytes: int, sha256: str = ""
) -> ChunkedUpload:
    """A resumable upload that can end in a submission: refused at once when no phase takes it now or the
    quota is used up (it completes into the phase open then)."""
    if kind not in FILE_KINDS:
        raise UploadError(f"kind {kind!r} is not uploaded in chunks (expected one of {', '.join(FILE_KINDS)})")
    try:
        check_quota(team_of(owner), benchmark, phase=intake_phase(benchmark, kind, None))
    except SubmissionRefused as exc:
        raise UploadError(str(exc), status=400) from None
    except QuotaExceeded as exc:
        raise UploadError(str(exc), status=429) from None
    return create_upload(owner, benchmark, kind, filename, total_bytes, sha256)


def complete_upload(upload: ChunkedUpload, method_name: str, **details: Any) -> Submission:
    """Turn the complete upload into a submission (``details``: description, paper_url, code_url, is_public).

    An artefact that fails the input check discards the upload; an exhausted
    quota leaves it to be completed later (``uploads.chunked.completed_file``).
    """
    with completed_file(upload) as (current, artefact):
        try:
            check_input(current.kind, current.benchmark, artefact=artefact)
        except UploadRejected as exc:
            raise UploadError(str(exc), status=400, discard=True) from None
        try:
            return create_submission(current.owner, current.benchmark, current.kind, method_name, artefact=artefact,
                                     **details)
        except QuotaExceeded as exc:
            raise UploadError(f"{exc}; the upload is kept for {expiry_hours()}", status=429) from None
        except SubmissionRefused as exc:
            raise UploadError(str(exc), status=400) from None
