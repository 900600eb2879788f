"""API permissions, delegating to ``submissions.access`` so pages and API agree."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from submissions import access


class CanManageSubmission(BasePermission):
    """Owner or staff: cancel and other changes."""

    message = "only the submission's owner or staff may do this"

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        return access.can_manage(request.user, obj)
