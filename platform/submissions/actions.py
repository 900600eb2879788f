"""What a participant does with an existing submission: cancel, re-run, edit, publish or hide, choose as the
team's entry, delete.

Permission checks live in ``submissions.access``; these functions assume the
caller may act on the submission (its owner or staff; for the team's entry,
anyone) and refuse, with ``NotInTeam``, a caller who is not in the team the
submission was made for. A re-run goes through ``submissions.services`` like any new
submission, so there is one code path for pages and the API. A cancel is one
conditional update: a worker running the job sees it at its next heartbeat
(``jobs.evaluation``), and a job that ended first is left as it ended.

Deleting keeps the row, marked ``deleted_at``, so the team's quota stays
counted exactly as before (``submissions.quota``: a finished submission
still counts for its 24 hours; one still queued or running is cancelled
first, and cancelled ones never count). Everything else goes: it leaves
every leaderboard (its result, ranking numbers and paired tests are
deleted; other submissions' results are untouched), it is no one's chosen
entry, its artefact file and log are removed, and ``Submission.objects.live()``
leaves it out of every list and page.
"""

from __future__ import annotations

from typing import Any

from django.core.files import File
from django.db import transaction
from django.utils import timezone

from submissions.access import team_refusal
from submissions.models import FINAL_STATUSES, Status, Submission
from submissions.services import SubmissionRefused, create_submission
from teams.models import Team


class NotInTeam(SubmissionRefused):
    """The caller is not a member of the team the submission was made for."""


def cancel_submission(submission: Submission, reason: str = "cancelled by its owner") -> bool:
    """Cancel a queued or running job; a running one stops within one heartbeat interval."""
    cancelled = (
        Submission.objects.filter(pk=submission.pk)
        .exclude(status__in=FINAL_STATUSES)
        .update(status=Status.CANCELLED, status_reason=reason, finished_at=timezone.now())
    )
    submission.refresh_from_db()
    return bool(cancelled)


def cancel(submission: Submission, by_staff: bool = False) -> bool:
    """Cancel a queued or running submission; False when it had already ended."""
    reason = "cancelled by staff" if by_staff else "cancelled by its owner"
    return cancel_submission(submission, reason=reason)


def rerun(submission: Submission) -> Submission:
    """A new submission with the same artefact and description, queued for evaluation.

    Counts against the team's daily quota like any submission, and is for
    the same team: refused once the owner has left it. Only an ended
    submission can be re-run. Raises ``SubmissionRefused`` or
    ``QuotaExceeded``.
    """
    if not submission.is_final:
        raise SubmissionRefused(f"submission #{submission.pk} is still {submission.status}; cancel it first")
    details = {
        "description": submission.description,
        "paper_url": submission.paper_url,
        "code_url": submission.code_url,
        "is_public": submission.is_public,
    }
    common = {
        "image_ref": submission.image_ref,
        # The same image, not whatever the tag points to now.
        "resolved_ref": submission.resolved_ref,
        "command": submission.command or None,
        "is_baseline": submission.is_baseline,
        "team": submission.team,
        "phase": submission.phase,
    }
    if not submission.artefact:
        return create_submission(submission.owner, submission.benchmark, submission.kind, submission.method_name,
                                 **common, **details)
    with submission.artefact.open("rb") as source:
        artefact = File(source, name=submission.artefact.name.rsplit("/", 1)[-1])
        return create_submission(submission.owner, submission.benchmark, submission.kind, submission.method_name,
                                 artefact=artefact, **common, **details)


def set_description(submission: Submission, description: str, user: Any) -> None:
    """Replace the description; like publishing, for the members of the submission's team (and staff)."""
    refusal = "" if user.is_staff else team_refusal(user, submission)
    if refusal:
        raise NotInTeam(refusal)
    Submission.objects.filter(pk=submission.pk).update(description=description)
    submission.description = description


def delete(submission: Submission) -> None:
    """Delete the submission as the module docstring says; the caller checked that its owner asks."""
    if submission.is_baseline:
        raise SubmissionRefused(f"submission #{submission.pk} is a bundled baseline; baselines cannot be deleted")
    artefact = submission.artefact.name
    with transaction.atomic():
        cancel_submission(submission, reason="deleted by its owner")
        Submission.objects.filter(pk=submission.pk).update(
            deleted_at=timezone.now(), is_public=False, chosen=False, artefact="", log_tail="")
        # The reverse one-to-one accessor, so this lower app needs no import of ``results``; deleting the
        # result cascades to its ranking numbers and paired tests, and takes its evidence file along.
        result = getattr(submission, "result", None)
        if result is not None:
            result.delete()
        if artefact and not Submission.objects.filter(artefact=artefact).exclude(pk=submission.pk).exists():
            storage = submission.artefact.storage
            transaction.on_commit(lambda: storage.delete(artefact))
    submission.refresh_from_db()


def set_public(submission: Submission, is_public: bool, user: Any) -> None:
    """Publish or hide; a hidden submission stops being its team's chosen entry. Staff may hide any."""
    refusal = "" if user.is_staff else team_refusal(user, submission)
    if refusal:
        raise NotInTeam(refusal)
    changes = {"is_public": is_public} if is_public else {"is_public": False, "chosen": False}
    Submission.objects.filter(pk=submission.pk).update(**changes)
    for name, value in changes.items():
        setattr(submission, name, value)


def choose_entry(submission: Submission, user: Any, chosen: bool = True) -> None:
    """Make ``submission`` its team's one chosen entry on its benchmark, protocol and phase (or, with
    ``chosen=False``, leave the team with none there); any member of the team may."""
    refusal = team_refusal(user, submission)
    if refusal:
        raise NotInTeam(refusal)
    if chosen and (submission.is_baseline or submission.status != Status.FINISHED or not submission.is_public):
        raise SubmissionRefused(
            f"submission #{submission.pk} is {_entry_state(submission)}; a team's entry must be one of its "
            "finished public submissions"
        )
    with transaction.atomic():
        # One choice at a time per team: the team's row lock orders members who choose at once.
        list(Team.objects.select_for_update().filter(pk=submission.team_id).values_list("pk", flat=True))
        same_board = Submission.objects.filter(team_id=submission.team_id, benchmark_id=submission.benchmark_id,
                                               protocol_id=submission.protocol_id, phase_id=submission.phase_id,
                                               chosen=True)
        same_board.update(chosen=False)
        if chosen:
            Submission.objects.filter(pk=submission.pk).update(chosen=True)
    submission.chosen = chosen


def _entry_state(submission: Submission) -> str:
    if submission.is_baseline:
        return "a baseline"
    if submission.status != Status.FINISHED:
        return str(submission.status)
    return "private"
