"""What a team may be called.

A team's name is its registry namespace (``<registry>/<team>/<repository>``)
and the last part of its page address, so it follows the registry's rule for
a path component, is unique whatever its case, and can be neither a name the
platform keeps for itself nor any user's name: user namespaces are
``<username>/`` in the same registry.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model

from accounts.reserved import is_reserved_username
from registry.tokens import namespace_for
from teams.models import Team

MIN_LENGTH, MAX_LENGTH = 2, 40
# Words the team addresses use themselves (``/api/teams/mine/``, ``/api/teams/invitations/``).
ROUTE_WORDS = frozenset({"mine", "invitations"})


class NameRefused(ValueError):
    """The name cannot be a team's; the message says what was expected."""


def check_team_name(name: str) -> str:
    """``name`` when a new team may take it; raises ``NameRefused`` with one line otherwise."""
    if not MIN_LENGTH <= len(name) <= MAX_LENGTH or namespace_for(name) != name:
        raise NameRefused(
            f"team name {name!r}: expected {MIN_LENGTH} to {MAX_LENGTH} lower-case letters, digits and . _ -, "
            "starting and ending with a letter or digit"
        )
    if is_reserved_username(name) or name in ROUTE_WORDS:
        raise NameRefused(f"team name {name!r} is reserved for the platform; choose another")
    if is_team_name(name) or get_user_model().objects.filter(username__iexact=name).exists():
        raise NameRefused(f"team name {name!r} is taken by a user or a team; choose another")
    return name


def is_team_name(name: str) -> bool:
    """True when a (non-personal) team holds ``name``, whatever its case."""
    return Team.objects.filter(personal_for__isnull=True, name__iexact=name).exists()
