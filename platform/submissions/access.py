"""Who may do what with a submission. Views and the API ask here, nowhere else.

- anyone sees a public submission (status and numbers), and the leaderboard;
- the owner and staff also see private submissions, container logs and
  plots of private submissions, and may cancel, re-run and publish or hide;
- a submission is its team's: re-running it, publishing or hiding it and
  choosing it as the team's entry are for members of that team only
  (``team_refusal``), so an owner who has left the team can no longer
  change what the team shows; any member may choose the team's entry.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from submissions.models import Status, Submission
from teams.services import is_member


def is_owner_or_staff(user: Any, submission: Submission) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_staff or submission.owner_id == user.pk)


def can_view(user: Any, submission: Submission) -> bool:
    return submission.is_public or is_owner_or_staff(user, submission)


def can_see_logs(user: Any, submission: Submission) -> bool:
    """Container output may leak what a method does: only its owner and staff read it."""
    return is_owner_or_staff(user, submission)


def can_manage(user: Any, submission: Submission) -> bool:
    """Cancel, re-run, make public or private."""
    return is_owner_or_staff(user, submission)


def visible_submission(request: HttpRequest, pk: int) -> Submission:
    """The submission if the visitor may see it; a 404 otherwise (private ones are not revealed)."""
    submission = get_object_or_404(Submission.objects.live().select_related("benchmark", "protocol", "owner", "team"),
                                   pk=pk)
    if not can_view(request.user, submission):
        raise Http404("no such submission")
    return submission


def can_choose(user: Any, submission: Submission) -> bool:
    """Whether the page offers ``user`` to (un)mark the submission as its team's entry."""
    eligible = submission.status == Status.FINISHED and submission.is_public and not submission.is_baseline
    return eligible and not team_refusal(user, submission)


def team_refusal(user: Any, submission: Submission) -> str:
    """Why ``user`` may not act for the team ``submission`` was made for, in one line; "" when they may."""
    if getattr(user, "is_authenticated", False) and is_member(user, submission.team):
        return ""
    return (f"submission #{submission.pk} belongs to team {submission.team.name!r}, which you are not in; "
            "only its current members may change it")
