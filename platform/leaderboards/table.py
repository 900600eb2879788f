"""A leaderboard as a table: every metric of every ranked row (a team's entry, a baseline, or with the
``all`` view every submission), with ties marked.

Ranking comes from ``leaderboards.queries.ranked_submissions`` (one indexed
query); this module fetches one page of it plus the other metrics of those
rows, and marks a row as tied with the row shown just above it when a paired
test of the two on the same test items cannot tell them apart on the sorting
metric (p >= 0.05, ``leaderboards.comparisons``), or when both have the same
value. Building a table only reads stored tests (workers make them); where
either result has no stored evidence, the test failed or is not made yet,
the older rule decides instead: their 95% intervals overlap.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from typing import Any


from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils import timezone

from benchmarks.models import Benchmark, Phase, ProtocolVersion
from leaderboards.comparisons import not_significant, stored_comparisons
from datasets.phases import EntryRule, Visibility
from leaderboards import queries
from leaderboards.models import LadderScore
from leaderboards.phases import board_phase, hidden_reason
from leaderboards.queries import leaderboard_metrics, ranked_submissions, view_name
from results.models import MetricValue, PairedComparison, Result
from submissions.models import Submission

PAGE_SIZE = 100
ID_BATCH = 500


@dataclass(frozen=True)
class Column:
    name: str
    higher_is_better: bool

    @property
    def arrow(self) -> str:
        return "↑" if self.higher_is_better else "↓"


@dataclass(frozen=True)
class Cell:
    value: float | None
    low: float | None
    high: float | None


@dataclass
class Row:
    """One ranked submission; ``p_vs_above`` is the paired test's p-value against the row above.

    ``p_vs_above`` is None where the interval-overlap rule decided the tie;
    ``tie_fallback`` then says why no paired test was used.
    """

    submission: Submission
    rank: int
    tied_with_above: bool
    cells: list[Cell]
    p_vs_above: float | None = None
    tie_fallback: str = ""

    @property
    def tie_title(self) -> str:
        """The hover text of the tie mark."""
        if self.p_vs_above is not None:
            return ("not significantly different from the entry above "
                    f"(paired test on the same test items, p = {self.p_vs_above:.3g})")
        return f"95% interval overlaps the entry above ({self.tie_fallback}; interval-overlap rule)"


@dataclass(frozen=True)
class Tie:
    tied: bool
    p_value: float | None = None
    fallback: str = ""


@dataclass
class Table:
    benchmark: Benchmark
    protocol: ProtocolVersion | None
    sort: str
    columns: list[Column]
    rows: list[Row] = field(default_factory=list)
    total: int = 0
    page: int = 1
    pages: int = 1
    view: str = "teams"
    rule: EntryRule = EntryRule.best
    phase: Phase | None = None
    hidden: str = ""
    """Why the visitor sees no rows (a phase's board hidden until its close, or private); '' when shown."""

    @property
    def is_ladder(self) -> bool:
        return self.phase is not None and self.phase.leaderboard == Visibility.ladder


def intervals_overlap(first: Cell, second: Cell) -> bool:
    """Two 95% intervals overlap (both known); equal values always count as a tie."""
    if first.value is not None and first.value == second.value:
        return True
    bounds = (first.low, first.high, second.low, second.high)
    if any(bound is None or not math.isfinite(bound) for bound in bounds):
        return False
    return max(first.low, second.low) <= min(first.high, second.high)  # type: ignore[type-var]


def tie_with_above(above: Cell, below: Cell, comparison: PairedComparison | None, no_test: str) -> Tie:
    """Whether ``below`` ties the row above it: the paired test when there is one, else interval overlap.

    Equal values are always a tie. ``no_test`` says why there is no paired
    test when ``comparison`` is None.
    """
    if comparison is not None and comparison.p_value is not None:
        return Tie(not_significant(comparison) or above.value == below.value, comparison.p_value)
    reason = "the paired test could not be run" if comparison is not None else no_test
    return Tie(intervals_overlap(above, below), None, reason)


def sort_metric(benchmark: Benchmark, requested: str | None) -> str:
    """The requested metric if it is a leaderboard column, else the spec's ``rank_by``."""
    return requested if requested in leaderboard_metrics(benchmark) else benchmark.rank_by


def leaderboard_table(
    benchmark: Benchmark,
    protocol: ProtocolVersion | None = None,
    sort: str | None = None,
    page: int = 1,
    page_size: int | None = PAGE_SIZE,
    view: str | None = None,
    phase: str | None = None,
    viewer: AbstractBaseUser | AnonymousUser | None = None,
    now: datetime | None = None,
) -> Table:
    """One page of the public leaderboard (``page_size=None``: every row), sorted by ``sort``: one row per
    team, or every submission with ``view="all"``.

    On a benchmark with competition phases it is the board of ``phase`` (a
    slug; default ``leaderboards.phases.board_phase``): that phase's
    submissions under its entry rule, no rows at all for a ``viewer`` the
    phase hides them from, and on a ladder phase each team's shown score.
    """
    protocol = protocol or benchmark.current_version()
    now = now or timezone.now()
    shown_phase = board_phase(benchmark, phase, now)
    metric = sort_metric(benchmark, sort)
    columns = [Column(name, benchmark.higher_is_better(name)) for name in leaderboard_metrics(benchmark)]
    table = Table(benchmark=benchmark, protocol=protocol, sort=metric, columns=columns, view=view_name(view),
                  rule=queries.entry_rule(benchmark, shown_phase), phase=shown_phase,
                  hidden=hidden_reason(shown_phase, viewer, now))
    if protocol is None or table.hidden:
        return table
    if table.is_ladder:
        return ladder_table(table)
    ranked = ranked_submissions(benchmark, protocol, metric=metric, view=table.view, rule=table.rule,
                                phase=shown_phase)
    table.total = ranked.order_by().values("pk").count()
    # Rank only ids (a narrow window over every row), then load full rows for one page.
    ranking = ranked.values_list("pk", "rank")
    if page_size is None:
        start, window = 0, list(ranking)
    else:
        table.pages = max(1, math.ceil(table.total / page_size))
        table.page = min(max(1, page), table.pages)
        start = (table.page - 1) * page_size
        # One row more at the top, to know whether the page's first row ties with the one above it.
        window = list(ranking[max(start - 1, 0): start + page_size])
    rows_by_id = _submissions([pk for pk, _ in window])
    cells = _cells_by_submission([pk for pk, _ in window], [c.name for c in columns])
    sort_index = [column.name for column in columns].index(metric)
    empty = [Cell(None, None, None)] * len(columns)
    sort_cells = [cells.get(pk, empty)[sort_index] for pk, _ in window]
    results = [getattr(rows_by_id[pk], "result", None) for pk, _ in window]
    comparisons = _adjacent_comparisons(metric, results, sort_cells)
    for position, (pk, rank) in enumerate(window):
        if page_size is not None and start > 0 and position == 0:
            continue
        tie = Tie(False)
        if position > 0:
            above, below = results[position - 1], results[position]
            comparison = comparisons.get((above.pk, below.pk)) if above and below else None
            tie = tie_with_above(sort_cells[position - 1], sort_cells[position], comparison,
                                 _no_test_reason(above, below, sort_cells[position - 1], sort_cells[position]))
        table.rows.append(Row(submission=rows_by_id[pk], rank=rank, tied_with_above=tie.tied,
                              cells=cells.get(pk, empty), p_vs_above=tie.p_value, tie_fallback=tie.fallback))
    return table


def _adjacent_comparisons(metric: str, results: list[Result | None],
                          sort_cells: list[Cell]) -> dict[tuple[int, int], PairedComparison]:
    """Stored paired tests of every adjacent pair whose two values are both known."""
    pairs = [
        (above, below)
        for above, below, first, second in zip(results, results[1:], sort_cells, sort_cells[1:])
        if above is not None and below is not None and _known(first) and _known(second)
    ]
    return stored_comparisons(metric, pairs)


def _known(cell: Cell) -> bool:
    return cell.value is not None and math.isfinite(cell.value)


def _no_test_reason(above: Result | None, below: Result | None, first: Cell, second: Cell) -> str:
    if not (_known(first) and _known(second)):
        return "the metric is undefined for one of the two"
    if above is None or below is None or not (above.evidence and below.evidence):
        return "no per-item evidence stored for one of the two results"
    return "the paired test has not been computed yet"


def _chunks(ids: list[int]) -> list[list[int]]:
    """Id lists short enough for one ``IN (...)`` on every database (a full export holds thousands)."""
    return [ids[start: start + ID_BATCH] for start in range(0, len(ids), ID_BATCH)]


def ladder_table(table: Table) -> Table:
    """A ladder phase's board: each team's shown score, best first (equal scores share a rank), and no
    other figure: neither the exact values nor their intervals."""
    benchmark = table.benchmark
    table.sort, table.view = benchmark.rank_by, "teams"
    table.columns = [Column(benchmark.rank_by, benchmark.higher_is_better(benchmark.rank_by))]
    order = "-score" if table.columns[0].higher_is_better else "score"
    scores = list(LadderScore.objects.filter(phase=table.phase, submission__protocol=table.protocol,
                                             submission__deleted_at__isnull=True)
                  .order_by(order, "updated").values_list("submission_id", "score"))
    rows_by_id = _submissions([pk for pk, _ in scores])
    rank = 0
    for position, (pk, score) in enumerate(scores):
        rank = rank if position > 0 and score == scores[position - 1][1] else position + 1
        table.rows.append(Row(submission=rows_by_id[pk], rank=rank, tied_with_above=False,
                              cells=[Cell(score, None, None)]))
    table.total = len(table.rows)
    return table


def _submissions(submission_ids: list[int]) -> dict[int, Submission]:
    """The listed submissions with owner, team and result, without the heavy text and JSON fields."""
    found: dict[int, Submission] = {}
    for chunk in _chunks(submission_ids):
        rows = (
            Submission.objects.filter(pk__in=chunk)
            .select_related("owner", "team", "result")
            .only("pk", "method_name", "paper_url", "code_url", "is_baseline", "kind", "chosen", "created",
                  "owner__username", "team__name", "team__personal_for", "result__comparable", "result__evidence")
        )
        found.update((submission.pk, submission) for submission in rows)
    return found


def best_entry(benchmark: Benchmark) -> tuple[Submission, Cell] | None:
    """The top of the current leaderboard as everyone sees it: the submission and its rank-metric cell."""
    table = leaderboard_table(benchmark, page=1, page_size=1, viewer=AnonymousUser())
    if not table.rows:
        return None
    return table.rows[0].submission, table.rows[0].cells[0]


def _cells_by_submission(submission_ids: list[int], names: list[str]) -> dict[int, list[Cell]]:
    found: dict[int, dict[str, Cell]] = {pk: {} for pk in submission_ids}
    for chunk in _chunks(submission_ids):
        values = MetricValue.objects.filter(submission_id__in=chunk, name__in=names).values_list(
            "submission_id", "name", "value", "ci_low", "ci_high"
        )
        for submission_id, name, value, low, high in values:
            found[submission_id][name] = Cell(value, low, high)
    empty = Cell(None, None, None)
    return {pk: [by_name.get(name, empty) for name in names] for pk, by_name in found.items()}


def row_record(row: Row, columns: list[Column]) -> dict[str, Any]:
    """One leaderboard row as plain data (the API's JSON and the CSV export)."""
    submission = row.submission
    return {
        "rank": row.rank,
        "tied_with_above": row.tied_with_above,
        "p_vs_above": row.p_vs_above,
        "submission": submission.pk,
        "method": submission.method_name,
        "submitter": submission.owner.get_username(),
        "team": None if submission.is_baseline else submission.team.name,
        "baseline": submission.is_baseline,
        "paper_url": submission.paper_url,
        "code_url": submission.code_url,
        "submitted": submission.created.isoformat(),
        "metrics": {
            column.name: {"value": cell.value, "ci95": [cell.low, cell.high]}
            for column, cell in zip(columns, row.cells)
        },
    }


RECORD_FIELDS = ("rank", "tied_with_above", "p_vs_above", "submission", "method", "submitter", "team", "baseline",
                 "paper_url", "code_url", "submitted")


def table_csv(table: Table) -> str:
    """The table as CSV: one column per metric plus its interval bounds.

    Text cells (method names, submitters, URLs) are neutralised against
    spreadsheet formula injection (``safe_csv_cell``); the numbers are
    written by this module and left as they are.
    """
    header = [*RECORD_FIELDS]
    for column in table.columns:
        header += [column.name, f"{column.name}_ci_low", f"{column.name}_ci_high"]
    lines = [[safe_csv_cell(name) for name in header]]
    for row in table.rows:
        record = row_record(row, table.columns)
        line = [safe_csv_cell(_csv_text(record[key])) for key in RECORD_FIELDS]
        for cell in row.cells:
            line += [_csv_number(cell.value), _csv_number(cell.low), _csv_number(cell.high)]
        lines.append(line)
    return _write_csv(lines)


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP's CSV injection rule).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_csv_cell(text: str) -> str:
    """``text`` with a leading single quote when a spreadsheet would read it as a formula."""
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


def rows_csv(rows: list[list[str]]) -> str:
    """Text rows as CSV, every cell neutralised."""
    return _write_csv([[safe_csv_cell(cell) for cell in row] for row in rows])


def _write_csv(lines: list[list[str]]) -> str:
    """RFC 4180 line ends: with them, a cell holding a bare CR is quoted instead of starting a new row."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(lines)
    return buffer.getvalue()


def _csv_number(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def _csv_text(value: Any) -> str:
    """A record's cell: numbers exactly, an absent p-value empty."""
    if value is None:
        return ""
    return _csv_number(value) if isinstance(value, float) else str(value)
