"""Who may do what with a submission. Views and the API ask here, nowhere else.

- anyone sees a public submission (status and numbers), and the leaderboard;
- the owner and staff also see private submissions, container logs and
  plots of private submissions, and may cancel, re-run and publish or hide.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from submissions.models import Submission


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
    submission = get_object_or_404(Submission.objects.select_related("benchmark", "protocol", "owner"), pk=pk)
    if not can_view(request.user, submission):
        raise Http404("no such submission")
    return submission
