"""What the commands print: tables and one-line messages for people, stable JSON records for scripts.

With ``--json`` a command writes exactly one JSON document to stdout; messages
always go to stderr so that a script can parse stdout as it is. The records
below keep their keys whatever the server adds to its own answers
(docs/cli.md lists them).
"""

from __future__ import annotations

import json
import sys
from typing import Any

SUBMISSION_KEYS = ("id", "benchmark", "method_name", "kind", "status", "status_reason", "is_public",
                   "is_baseline", "owner", "team", "description", "created", "finished_at", "protocol_hash")
SUBMISSION_HEADER = ["id", "benchmark", "method", "kind", "status", "shown", "created"]


def emit_json(document: Any) -> None:
    json.dump(document, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


def note(message: str) -> None:
    """A message for the person at the terminal, never mixed into what a script parses."""
    print(message, file=sys.stderr)


def submission_record(submission: dict[str, Any], server: str) -> dict[str, Any]:
    """A submission as scripts see it: ``SUBMISSION_KEYS`` plus ``metrics``, ``ci95`` (null until it
    finished) and ``url``, its page on the site."""
    result = submission.get("result") or {}
    return {
        **{key: submission.get(key) for key in SUBMISSION_KEYS},
        "metrics": result.get("metrics"),
        "ci95": result.get("ci95"),
        "url": f"{server}/submissions/{submission['id']}/",
    }


def benchmark_record(benchmark: dict[str, Any]) -> dict[str, Any]:
    metrics = benchmark["metrics"]
    rank = next((m for m in metrics if m["name"] == benchmark["rank_by"]), None)
    protocol = benchmark.get("current_protocol") or {}
    return {
        "slug": benchmark["slug"],
        "title": benchmark["title"],
        "task": benchmark["task"],
        "rank_by": benchmark["rank_by"],
        "higher_is_better": rank["higher_is_better"] if rank else None,
        "metrics": [m["name"] for m in metrics],
        "protocol_hash": protocol.get("protocol_hash"),
    }


def leaderboard_record(board: dict[str, Any]) -> dict[str, Any]:
    row_keys = ("rank", "tied_with_above", "method", "team", "baseline", "submission", "submitted", "metrics")
    return {
        "benchmark": board["benchmark"],
        "protocol_hash": board["protocol_hash"],
        "phase": board.get("phase"),
        "sort": board["sort"],
        "columns": [{"name": c["name"], "higher_is_better": c["higher_is_better"]} for c in board["columns"]],
        "rows": [{key: row.get(key) for key in row_keys} for row in board["rows"]],
    }


def print_submission(submission: dict[str, Any]) -> None:
    print(f"#{submission['id']} {submission['method_name']} on {submission['benchmark']}: {submission['status']}")
    if submission.get("status_reason"):
        print(f"  {submission['status_reason']}")
    result = submission.get("result")
    if result:
        rows = [[name, format_number(value), format_interval(result["ci95"].get(name))]
                for name, value in result["metrics"].items()]
        print_table(["metric", "value", "95% interval"], rows)
        if not result.get("comparable", True):
            print("  not comparable: scored with non-standard feature extractor weights")
    if submission.get("log_tail"):
        print("--- log (last lines) ---")
        print("\n".join(submission["log_tail"].splitlines()[-20:]))


def submission_row(submission: dict[str, Any]) -> list[str]:
    return [str(submission["id"]), submission["benchmark"], submission["method_name"], submission["kind"],
            submission["status"], "public" if submission["is_public"] else "private",
            submission["created"][:16].replace("T", " ")]


def format_number(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if abs(value) < 10 else f"{value:.2f}"


def format_interval(bounds: Any) -> str:
    if not bounds or bounds[0] is None or bounds[1] is None:
        return ""
    return f"[{format_number(bounds[0])}, {format_number(bounds[1])}]"


def print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    for line in [header, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)).rstrip())
