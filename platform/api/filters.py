"""Filters of the submission list (django-filter), strict about what they accept.

``GET /api/v1/submissions/?benchmark=&status=&kind=&phase=&team=&created_after=&created_before=``:
``benchmark`` and ``phase`` are slugs, ``team`` the team's name, ``created_after``
(inclusive) and ``created_before`` (exclusive) ISO 8601 dates or datetimes
(UTC unless an offset is given). A query parameter that is neither a filter
nor ``limit``, ``offset`` or ``format`` is refused with 400 naming it, and so
is a value a filter cannot read: a script's typo never silently widens its list.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.request import Request

from api.errors import Refused
from submissions.models import Kind, Status, Submission

OTHER_PARAMETERS = ("limit", "offset", "format")


def choice_error(noun: str, choices: list[tuple[str, str]]) -> dict[str, str]:
    """The message of a value that is not one of ``choices``, listing them."""
    expected = ", ".join(value for value, _ in choices)
    return {"invalid_choice": f"'%(value)s' is not a {noun}; expected one of: {expected}"}


def moment(lookup: str) -> django_filters.DateTimeFilter:
    """A bound on ``created``: ``gte`` (created_after) or ``lt`` (created_before)."""
    return django_filters.DateTimeFilter(
        field_name="created", lookup_expr=lookup,
        help_text=("made at or after" if lookup == "gte" else "made before") + " this ISO 8601 date or datetime (UTC)",
        error_messages={"invalid": "expected an ISO 8601 date or datetime, e.g. 2026-01-31 or 2026-01-31T12:00:00Z"},
    )


class SubmissionFilter(django_filters.FilterSet):
    benchmark = django_filters.CharFilter(field_name="benchmark__slug", help_text="benchmark slug")
    status = django_filters.ChoiceFilter(choices=Status.choices, error_messages=choice_error("status", Status.choices))
    kind = django_filters.ChoiceFilter(choices=Kind.choices, error_messages=choice_error("kind", Kind.choices))
    phase = django_filters.CharFilter(field_name="phase__slug", help_text="competition phase slug")
    team = django_filters.CharFilter(field_name="team__name", lookup_expr="iexact",
                                     help_text="the team the submission was made for")
    created_after = moment("gte")
    created_before = moment("lt")

    class Meta:
        model = Submission
        fields = ["benchmark", "status", "kind", "phase", "team", "created_after", "created_before"]


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter's backend, refusing query parameters that neither filter nor page the list."""

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        known = sorted([*SubmissionFilter.base_filters, *OTHER_PARAMETERS])
        for name in request.query_params:
            if name not in known:
                raise Refused(f"unknown filter {name!r}; expected one of: {', '.join(known)}", field=name)
        return super().filter_queryset(request, queryset, view)
