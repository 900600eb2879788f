"""Your submissions: ``status``, ``submissions``, ``cancel``, ``rerun``, ``edit`` and ``delete``.

Each acts through the REST API as the signed-in user; the server decides who
may do what, and its one-line reason is what a refusal prints.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from tqdm import tqdm

from toonbench_cli import exits
from toonbench_cli.client import Client
from toonbench_cli.output import (
    SUBMISSION_HEADER,
    emit_json,
    note,
    print_submission,
    print_table,
    submission_record,
    submission_row,
)

STATUS_STEPS = ["queued", "running", "scoring", "finished"]
FINAL_STATUSES = {"finished", "failed", "timed_out", "out_of_memory", "cancelled"}
STATUSES = [*STATUS_STEPS, *sorted(FINAL_STATUSES - {"finished"})]
KINDS = ["image", "tarball", "predictions"]
QUOTA_NOTE = ("deleting gives no quota back: a finished submission keeps counting toward its daily limit "
              "(a queued or running one is cancelled first, and cancelled or failed ones never count)")


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text}")
    return value


def add_submission_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    json_flag = argparse.ArgumentParser(add_help=False)
    json_flag.add_argument("--json", action="store_true", help="print one JSON document (keys: docs/cli.md)")

    status = commands.add_parser("status", parents=[common, json_flag], help="show a submission")
    status.add_argument("id", type=int)
    status.add_argument("--wait", action="store_true", help="follow the evaluation until it ends")
    status.add_argument("--interval", type=float, default=3.0, help="seconds between checks (default 3)")
    status.add_argument("--timeout", type=float, default=None, help="give up waiting after this many seconds")
    status.set_defaults(handler=cmd_status)

    listing = commands.add_parser("submissions", parents=[common, json_flag],
                                  help="list your submissions, newest first")
    listing.add_argument("--benchmark", metavar="SLUG")
    listing.add_argument("--status", choices=STATUSES)
    listing.add_argument("--kind", choices=KINDS)
    listing.add_argument("--phase", metavar="SLUG", help="competition phase")
    listing.add_argument("--team", metavar="NAME")
    listing.add_argument("--created-after", metavar="DATE", help="ISO date or date-time")
    listing.add_argument("--created-before", metavar="DATE", help="ISO date or date-time")
    listing.add_argument("--limit", type=positive_int, metavar="N", help="submissions per page (default: the server's)")
    listing.add_argument("--all-pages", action="store_true", help="fetch every page, not only the first")
    listing.set_defaults(handler=cmd_submissions)

    cancel = commands.add_parser("cancel", parents=[common, json_flag], help="cancel a queued or running submission")
    cancel.add_argument("id", type=int)
    cancel.set_defaults(handler=cmd_cancel)

    rerun = commands.add_parser("rerun", parents=[common, json_flag],
                                help="evaluate an ended submission again (counts against the daily quota)")
    rerun.add_argument("id", type=int)
    rerun.set_defaults(handler=cmd_rerun)

    edit = commands.add_parser("edit", parents=[common, json_flag],
                               help="change a submission's description or visibility")
    edit.add_argument("id", type=int)
    edit.add_argument("--description", metavar="TEXT")
    shown = edit.add_mutually_exclusive_group()
    shown.add_argument("--public", dest="is_public", action="store_const", const=True,
                       help="show it on the leaderboard")
    shown.add_argument("--private", dest="is_public", action="store_const", const=False,
                       help="keep it off the leaderboard")
    edit.set_defaults(handler=cmd_edit)

    delete = commands.add_parser("delete", parents=[common, json_flag],
                                 help="delete one of your submissions (its quota is not given back)")
    delete.add_argument("id", type=int)
    delete.add_argument("--yes", "-y", action="store_true", help="do not ask first")
    delete.set_defaults(handler=cmd_delete)


def cmd_status(args: argparse.Namespace, client: Client, config: dict[str, Any]) -> int:
    if args.wait:
        return follow(client, args.id, args.interval, args.timeout, args.json)
    submission = client.submission(args.id)
    show(submission, client, args.json)
    return exit_status(submission)


def follow(client: Client, submission_id: int, interval: float, timeout: float | None, as_json: bool = False) -> int:
    """Poll until the submission ends, showing its progress through the job's stages on stderr."""
    deadline = None if timeout is None else time.monotonic() + timeout
    submission = client.submission(submission_id)
    with tqdm(total=len(STATUS_STEPS) - 1, desc=f"#{submission_id}", file=sys.stderr,
              bar_format="{desc}: {bar} {postfix} [{elapsed}]") as bar:
        while True:
            stage = STATUS_STEPS.index(submission["status"]) if submission["status"] in STATUS_STEPS else bar.total
            bar.n = stage
            bar.set_postfix_str(submission["status"])
            if submission["status"] in FINAL_STATUSES:
                break
            if deadline is not None and time.monotonic() > deadline:
                bar.close()
                note(f"still {submission['status']} after {timeout:g} s; check later with "
                     f"`toonbench status {submission_id}`")
                if as_json:
                    show(submission, client, as_json)
                return exits.STILL_RUNNING
            time.sleep(interval)
            submission = client.submission(submission_id)
    show(submission, client, as_json)
    return exit_status(submission)


def exit_status(submission: dict[str, Any]) -> int:
    """0 while running or when finished; 1 when the evaluation ended without a result."""
    return exits.REFUSED if submission["status"] in FINAL_STATUSES - {"finished"} else exits.OK


def show(submission: dict[str, Any], client: Client, as_json: bool) -> None:
    """One submission in full: its record plus the log tail (owner and staff only) with ``--json``."""
    if as_json:
        emit_json({**submission_record(submission, client.server), "log_tail": submission.get("log_tail")})
    else:
        print_submission(submission)


def cmd_submissions(args: argparse.Namespace, client: Client, config: dict[str, Any]) -> int:
    filters = {"benchmark": args.benchmark, "status": args.status, "kind": args.kind, "phase": args.phase,
               "team": args.team, "created_after": args.created_after, "created_before": args.created_before,
               "limit": args.limit}
    page = client.submissions(filters)
    results = list(page["results"])
    while args.all_pages and page.get("next") and page["results"]:
        page = client.submissions({**filters, "offset": len(results)})
        results.extend(page["results"])
    if args.json:
        emit_json({"count": page["count"], "results": [submission_record(s, client.server) for s in results]})
    elif results:
        print_table(SUBMISSION_HEADER, [submission_row(s) for s in results])
    if not results:
        note("no submissions match")
    elif len(results) < page["count"]:
        note(f"{len(results)} of {page['count']} shown; --all-pages lists them all")
    return exits.OK


def cmd_cancel(args: argparse.Namespace, client: Client, config: dict[str, Any]) -> int:
    submission = client.cancel(args.id)
    report(submission, client, args.json, f"#{submission['id']} {submission['status']}: {submission['status_reason']}")
    return exits.OK


def cmd_rerun(args: argparse.Namespace, client: Client, config: dict[str, Any]) -> int:
    submission = client.rerun(args.id)
    report(submission, client, args.json, f"submission #{submission['id']} {submission['status']} "
                                          f"(re-run of #{args.id}): {client.server}/submissions/{submission['id']}/")
    return exits.OK


def cmd_edit(args: argparse.Namespace, client: Client, config: dict[str, Any]) -> int:
    changes = {name: value for name, value in (("description", args.description), ("is_public", args.is_public))
               if value is not None}
    if not changes:
        raise exits.UsageError("edit: nothing to change; give --description TEXT, --public or --private")
    submission = client.edit(args.id, changes)
    shown = "public" if submission["is_public"] else "private"
    report(submission, client, args.json, f"#{submission['id']} updated: {shown}; "
                                          f"description: {submission['description']!r}")
    return exits.OK


def cmd_delete(args: argparse.Namespace, client: Client, config: dict[str, Any]) -> int:
    if not args.yes and not confirmed(client.submission(args.id)):
        note("nothing deleted")
        return exits.REFUSED
    client.delete(args.id)
    if args.json:
        emit_json({"id": args.id, "deleted": True})
    else:
        print(f"deleted submission #{args.id}")
    note(QUOTA_NOTE)
    return exits.OK


def confirmed(submission: dict[str, Any]) -> bool:
    """Ask on the terminal; no answer (end of input) is a no."""
    sys.stderr.write(f"delete submission #{submission['id']} ({submission['method_name']} on "
                     f"{submission['benchmark']}, {submission['status']})? {QUOTA_NOTE}. [y/N] ")
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in {"y", "yes"}


def report(submission: dict[str, Any], client: Client, as_json: bool, line: str) -> None:
    """What a command did to a submission: its record with ``--json``, else one line."""
    if as_json:
        emit_json(submission_record(submission, client.server))
    else:
        print(line)
