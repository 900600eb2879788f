"""The registry namespaces a user pushes to and pulls from: their own, and their team's.

A user's own namespace is their username when it can name one
(``registry.tokens.namespace_for``) and no team holds that name; their
team's namespace is the team's name, for as long as they are a member. A
member who leaves loses the team's namespace with their next token; the
team keeps its name and its images.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from registry.tokens import namespace_for
from teams.names import is_team_name
from teams.services import current_team


def own_namespace(user: AbstractBaseUser) -> str | None:
    namespace = namespace_for(user.get_username())
    return None if namespace is None or is_team_name(namespace) else namespace


def team_namespace(user: AbstractBaseUser) -> str | None:
    team = current_team(user)
    return team.name if team is not None else None


def namespaces_of(user: AbstractBaseUser) -> tuple[str, ...]:
    """Every namespace ``user`` may push to now, their own first."""
    return tuple(namespace for namespace in (own_namespace(user), team_namespace(user)) if namespace)
