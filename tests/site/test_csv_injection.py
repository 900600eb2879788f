"""Leaderboard CSV exports neutralise cells a spreadsheet would run as formulas (OWASP's rule).

Before, method names and URLs were written raw: a method named
``=HYPERLINK("http://x","y")`` became a live link (or worse) in whoever opened
the export. Now a cell that starts with ``=``, ``+``, ``-``, ``@``, tab or
carriage return is prefixed with a single quote; every other cell is as it was.
"""

from __future__ import annotations

import csv
import io

import pytest

from site_helpers import finished_submission

pytestmark = pytest.mark.django_db

# Every submission (``view=all``): the one-row-per-team view would show one method of each participant.
EXPORTS = ["/benchmarks/toonnet/leaderboard.csv?view=all", "/api/benchmarks/toonnet/leaderboard/?format=csv&view=all"]
HOSTILE_METHODS = {
    '=HYPERLINK("http://x","y")': '\'=HYPERLINK("http://x","y")',
    "+1+cmd|' /C calc'!A0": "'+1+cmd|' /C calc'!A0",
    "-2+3": "'-2+3",
    "@SUM(A1:A9)": "'@SUM(A1:A9)",
    "\t=1": "'\t=1",
    "\r=1": "'\r=1",
    "plain method (v2) = better": "plain method (v2) = better",
}


@pytest.mark.parametrize("export", EXPORTS)
def test_formula_cells_are_quoted_in_every_export(client, toonnet, alice, bob, django_user_model, toonnet_built, export) -> None:  # type: ignore[no-untyped-def]
    for seed, method in enumerate(HOSTILE_METHODS, start=1):
        finished_submission(alice, toonnet, toonnet_built, seed=seed, method=method,
                            paper_url="=HYPERLINK(\"http://evil.example\",\"paper\")", code_url="https://example.org/code")
    minus_user = django_user_model.objects.create_user("-mallory", password="correct horse battery")
    finished_submission(minus_user, toonnet, toonnet_built, seed=99, method="by -mallory")
    response = client.get(export)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode(), newline="")))
    assert sorted(row["method"] for row in rows) == sorted([*HOSTILE_METHODS.values(), "by -mallory"])
    hostile_rows = [row for row in rows if row["submitter"] == "alice"]
    assert {row["paper_url"] for row in hostile_rows} == {"'=HYPERLINK(\"http://evil.example\",\"paper\")"}
    assert {row["code_url"] for row in hostile_rows} == {"https://example.org/code"}
    assert {row["submitter"] for row in rows} == {"alice", "'-mallory"}
    assert {row["team"] for row in rows} == {"alice", "'-mallory"}
    for row in rows:
        float(row["top1_error"])  # numbers are written as numbers, never quoted
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_an_error_answered_as_csv_is_neutralised_too(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/benchmarks/=cmd/leaderboard/?format=csv")
    assert response.status_code == 404
    for row in csv.reader(io.StringIO(response.content.decode())):
        assert all(not cell.startswith(("=", "+", "-", "@")) for cell in row)
