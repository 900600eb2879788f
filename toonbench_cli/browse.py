"""What anyone may read: ``benchmarks``, ``protocol download`` and ``leaderboard``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from toonbench_cli.client import Client
from toonbench_cli.output import (
    benchmark_record,
    emit_json,
    format_interval,
    format_number,
    leaderboard_record,
    print_table,
)


def add_browse_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    listing = commands.add_parser("benchmarks", parents=[common], help="list the benchmarks")
    listing.add_argument("--json", action="store_true", help="print one JSON document (keys: docs/cli.md)")
    listing.set_defaults(handler=cmd_benchmarks)

    protocol = commands.add_parser("protocol", parents=[common], help="protocol bundles")
    protocol_commands = protocol.add_subparsers(dest="protocol_command", metavar="ACTION", required=True)
    download = protocol_commands.add_parser("download", parents=[common], help="download a protocol bundle")
    download.add_argument("slug")
    download.add_argument("-o", "--output", type=Path, help="zip file or folder to write (default: here)")
    download.set_defaults(handler=cmd_download)

    board = commands.add_parser("leaderboard", parents=[common], help="show a leaderboard")
    board.add_argument("slug")
    shape = board.add_mutually_exclusive_group()
    shape.add_argument("--csv", action="store_true", help="print CSV")
    shape.add_argument("--json", action="store_true", help="print one JSON document (keys: docs/cli.md)")
    board.add_argument("--sort", help="metric to sort by")
    board.add_argument("--version", help="protocol hash prefix (default: current)")
    board.set_defaults(handler=cmd_leaderboard)


def cmd_benchmarks(args: argparse.Namespace, client: Client, config: dict[str, Any]) -> int:
    records = [benchmark_record(benchmark) for benchmark in client.benchmarks()]
    if args.json:
        emit_json(records)
        return 0
    rows = []
    for record in records:
        arrow = {True: "↑", False: "↓", None: ""}[record["higher_is_better"]]
        rows.append([record["slug"], record["task"], f"{record['rank_by']} {arrow}",
                     (record["protocol_hash"] or "not built")[:12], record["title"]])
    print_table(["slug", "task", "ranked by", "protocol", "title"], rows)
    return 0


def cmd_download(args: argparse.Namespace, client: Client, config: dict[str, Any]) -> int:
    bar = tqdm(unit="B", unit_scale=True, unit_divisor=1024, desc=f"{args.slug} bundle", file=sys.stderr)
    with bar:
        path = client.download_bundle(args.slug, args.output, lambda total: setattr(bar, "total", total or None),
                                      bar.update)
    print(path)
    return 0


def cmd_leaderboard(args: argparse.Namespace, client: Client, config: dict[str, Any]) -> int:
    if args.csv:
        sys.stdout.write(client.leaderboard_csv(args.slug, args.sort, args.version))
        return 0
    board = client.leaderboard(args.slug, args.sort, args.version)
    if args.json:
        emit_json(leaderboard_record(board))
        return 0
    names = [column["name"] for column in board["columns"]]
    arrows = {c["name"]: "↑" if c["higher_is_better"] else "↓" for c in board["columns"]}
    rows = []
    for row in board["rows"]:
        cells = [f"{format_number(row['metrics'][n]['value'])} {format_interval(row['metrics'][n]['ci95'])}"
                 for n in names]
        rank = f"={row['rank']}" if row["tied_with_above"] else str(row["rank"])
        method = row["method"] + (" [baseline]" if row["baseline"] else "")
        rows.append([rank, method, *cells, row["submitted"][:10]])
    print(f"{board['benchmark']} · protocol {str(board['protocol_hash'])[:12]} · sorted by {board['sort']}")
    print_table(["rank", "method", *[f"{n} {arrows[n]}" for n in names], "submitted"], rows)
    return 0
