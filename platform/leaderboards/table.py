"""A leaderboard as a table: every metric of every ranked submission, with ties marked.

Ranking comes from ``leaderboards.queries.ranked_submissions`` (one indexed
query); this module fetches one page of it plus the other metrics of those
rows, and marks a row as tied when its 95% interval on the sorting metric
overlaps the interval of the row ranked just above it.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from typing import Any

from benchmarks.models import Benchmark, ProtocolVersion
from leaderboards.queries import leaderboard_metrics, ranked_submissions
from submissions.models import MetricValue, Submission

PAGE_SIZE = 100


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
    submission: Submission
    rank: int
    tied_with_above: bool
    cells: list[Cell]


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


def intervals_overlap(first: Cell, second: Cell) -> bool:
    """Two 95% intervals overlap (both known); equal values always count as a tie."""
    if first.value is not None and first.value == second.value:
        return True
    bounds = (first.low, first.high, second.low, second.high)
    if any(bound is None or not math.isfinite(bound) for bound in bounds):
        return False
    return max(first.low, second.low) <= min(first.high, second.high)  # type: ignore[type-var]


def sort_metric(benchmark: Benchmark, requested: str | None) -> str:
    """The requested metric if it is a leaderboard column, else the spec's ``rank_by``."""
    return requested if requested in leaderboard_metrics(benchmark) else benchmark.rank_by


def leaderboard_table(
    benchmark: Benchmark,
    protocol: ProtocolVersion | None = None,
    sort: str | None = None,
    page: int = 1,
    page_size: int | None = PAGE_SIZE,
) -> Table:
    """One page of the public leaderboard (``page_size=None``: every row), sorted by ``sort``."""
    protocol = protocol or benchmark.current_version()
    metric = sort_metric(benchmark, sort)
    columns = [Column(name, benchmark.higher_is_better(name)) for name in leaderboard_metrics(benchmark)]
    table = Table(benchmark=benchmark, protocol=protocol, sort=metric, columns=columns)
    if protocol is None:
        return table
    ranked = ranked_submissions(benchmark, protocol, metric=metric).defer(
        "log_tail", "status_reason", "description", "command", "result__details", "result__metrics", "result__ci95"
    )
    table.total = ranked.count()
    if page_size is None:
        start, window = 0, list(ranked)
    else:
        table.pages = max(1, math.ceil(table.total / page_size))
        table.page = min(max(1, page), table.pages)
        start = (table.page - 1) * page_size
        # One row more at the top, to know whether the page's first row ties with the one above it.
        window = list(ranked[max(start - 1, 0): start + page_size])
    cells = _cells_by_submission([submission.pk for submission in window], [c.name for c in columns])
    sort_index = [column.name for column in columns].index(metric)
    previous: Cell | None = None
    for position, submission in enumerate(window):
        row_cells = cells.get(submission.pk, [Cell(None, None, None)] * len(columns))
        current = row_cells[sort_index]
        tied = previous is not None and intervals_overlap(previous, current)
        previous = current
        if page_size is not None and start > 0 and position == 0:
            continue
        table.rows.append(Row(submission=submission, rank=submission.rank, tied_with_above=tied, cells=row_cells))
    return table


def _cells_by_submission(submission_ids: list[int], names: list[str]) -> dict[int, list[Cell]]:
    found: dict[int, dict[str, Cell]] = {pk: {} for pk in submission_ids}
    values = MetricValue.objects.filter(submission_id__in=submission_ids, name__in=names).values_list(
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
        "submission": submission.pk,
        "method": submission.method_name,
        "submitter": submission.owner.get_username(),
        "baseline": submission.is_baseline,
        "paper_url": submission.paper_url,
        "code_url": submission.code_url,
        "submitted": submission.created.isoformat(),
        "metrics": {
            column.name: {"value": cell.value, "ci95": [cell.low, cell.high]}
            for column, cell in zip(columns, row.cells)
        },
    }


def table_csv(table: Table) -> str:
    """The table as CSV: one column per metric plus its interval bounds."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = ["rank", "tied_with_above", "submission", "method", "submitter", "baseline", "paper_url", "code_url",
              "submitted"]
    for column in table.columns:
        header += [column.name, f"{column.name}_ci_low", f"{column.name}_ci_high"]
    writer.writerow(header)
    for row in table.rows:
        record = row_record(row, table.columns)
        line = [record[key] for key in header[:9]]
        for cell in row.cells:
            line += [_csv_number(cell.value), _csv_number(cell.low), _csv_number(cell.high)]
        writer.writerow(line)
    return buffer.getvalue()


def _csv_number(value: float | None) -> str:
    return "" if value is None else repr(float(value))
