"""A benchmark's submissions as its hosts see them: every status, private included, and the exports.

``host_records`` turns submissions into flat records (team, members,
metadata, status, failure reason, metrics, image digests); ``records_csv``
writes them with every text cell neutralised against spreadsheet formula
injection, as the leaderboard's CSV is.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.db.models import QuerySet

from benchmarks.models import Benchmark, Phase
from leaderboards.table import safe_csv_cell
from submissions.models import Submission
from teams.models import Team

FIELDS = ("id", "phase", "team", "members", "owner", "method", "kind", "status", "failure_reason", "is_public",
          "is_baseline", "chosen", "created", "finished_at", "protocol_version", "protocol_hash", "image_ref",
          "resolved_ref", "image_digest", "description", "paper_url", "code_url", "rescored_from")


def benchmark_submissions(benchmark: Benchmark, phase: Phase | None = None) -> QuerySet[Submission]:
    """Every submission of ``benchmark`` (of its ``phase``, when given) that its owner has not deleted, oldest
    first."""
    submissions = Submission.objects.live().filter(benchmark=benchmark)
    if phase is not None:
        submissions = submissions.filter(phase=phase)
    related = ("owner", "team", "team__personal_for", "phase", "protocol", "result", "rescored_from")
    return (submissions.select_related(*related).prefetch_related("team__memberships__user")
            .order_by("created", "pk"))


def host_record(submission: Submission) -> dict[str, Any]:
    """One submission as a flat record; ``metrics`` maps metric name to value (empty until scored)."""
    team = submission.team
    result = getattr(submission, "result", None)
    origin = getattr(submission, "rescored_from", None)
    return {
        "id": submission.pk,
        "phase": submission.phase.slug if submission.phase else "",
        "team": team.name if team else "",
        "members": team_members(team) if team else [],
        "owner": submission.owner.get_username(),
        "method": submission.method_name,
        "kind": submission.kind,
        "status": submission.status,
        "failure_reason": submission.status_reason,
        "is_public": submission.is_public,
        "is_baseline": submission.is_baseline,
        "chosen": submission.chosen,
        "created": submission.created.isoformat(),
        "finished_at": submission.finished_at.isoformat() if submission.finished_at else None,
        "protocol_version": submission.protocol.version,
        "protocol_hash": submission.protocol.protocol_hash,
        "image_ref": submission.image_ref,
        "resolved_ref": submission.resolved_ref,
        "image_digest": submission.image_digest,
        "description": submission.description,
        "paper_url": submission.paper_url,
        "code_url": submission.code_url,
        "rescored_from": origin.original_id if origin else None,
        "metrics": dict(result.metrics) if result else {},
    }


def team_members(team: Team) -> list[str]:
    """The usernames of ``team``'s members; a personal team's member is its user."""
    if team.personal_for is not None:
        return [team.personal_for.get_username()]
    return sorted(membership.user.get_username() for membership in team.memberships.all())


def records_csv(records: list[dict[str, Any]], metric_names: list[str]) -> str:
    """The records as CSV: the fields, then one column per metric; text cells are neutralised, numbers kept."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_csv_cell(name) for name in [*FIELDS, *metric_names]])
    for record in records:
        line = [safe_csv_cell(_cell(record[field])) for field in FIELDS]
        line += [_number(record["metrics"].get(name)) for name in metric_names]
        writer.writerow(line)
    return buffer.getvalue()


def _number(value: Any) -> str:
    return "" if value is None else repr(float(value))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(value)
    return str(value).lower() if isinstance(value, bool) else str(value)
