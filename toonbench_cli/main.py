"""``toonbench``: log in, list benchmarks, download protocols, submit, follow a submission, read leaderboards.

Every command takes ``--server URL`` (default: ``$TOONBENCH_SERVER``, then
the saved config, then http://127.0.0.1:8000).
"""

from __future__ import annotations

import argparse
import getpass
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from toonbench_cli.client import Client, ClientError
from toonbench_cli.config import load_config, save_config, server_url
from toonbench_cli.host import add_host_command
from toonbench_cli.init import add_init_command
from toonbench_cli.push import add_push_command, reference_to_submit
from toonbench_cli.resumable import CHUNK_MB, CHUNKED_ABOVE_MB, MEGABYTE, submit_in_chunks, uses_chunks
from toonbench_cli.upload import zip_folder

FINAL_STATUSES = {"finished", "failed", "timed_out", "out_of_memory", "cancelled"}
STATUS_STEPS = ["queued", "running", "scoring", "finished"]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    config = load_config()
    client = Client(server_url(args.server, config), token=config.get("token"))
    try:
        return int(args.handler(args, client, config) or 0)
    except ClientError as exc:
        print(f"toonbench: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("toonbench: interrupted", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    server_help = "server URL (default: $TOONBENCH_SERVER or the saved config)"
    # Accepted before or after the command; SUPPRESS keeps a command's parser from resetting it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--server", default=argparse.SUPPRESS, help=server_help)
    parser = argparse.ArgumentParser(prog="toonbench", description="Client of a ToonBench benchmark server.")
    parser.add_argument("--server", default=None, help=server_help)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    login = commands.add_parser("login", parents=[common], help="save the server and your API token")
    login.add_argument("--username", "-u")
    login.add_argument("--password", "-p", help="(prompted when missing)")
    login.add_argument("--token", help="an API token from the site's token page instead of a password")
    login.set_defaults(handler=cmd_login)

    listing = commands.add_parser("benchmarks", parents=[common], help="list the benchmarks")
    listing.set_defaults(handler=cmd_benchmarks)

    protocol = commands.add_parser("protocol", parents=[common], help="protocol bundles")
    protocol_commands = protocol.add_subparsers(dest="protocol_command", metavar="ACTION", required=True)
    download = protocol_commands.add_parser("download", parents=[common], help="download a protocol bundle")
    download.add_argument("slug")
    download.add_argument("-o", "--output", type=Path, help="zip file or folder to write (default: here)")
    download.set_defaults(handler=cmd_download)

    submit = commands.add_parser("submit", parents=[common], help="submit to a benchmark")
    submit.add_argument("slug")
    what = submit.add_mutually_exclusive_group(required=True)
    what.add_argument("--image", help="container image reference the evaluator can pull")
    what.add_argument("--tarball", type=Path, help="image saved with `docker save IMAGE -o image.tar`")
    what.add_argument("--predictions", type=Path, help="output folder (zipped for you) or a zip of it")
    submit.add_argument("--method", required=True, help="method name shown on the leaderboard")
    submit.add_argument("--description", default="")
    submit.add_argument("--paper-url", default="")
    submit.add_argument("--code-url", default="")
    submit.add_argument("--private", action="store_true", help="keep it off the public leaderboard")
    submit.add_argument("--wait", action="store_true", help="follow the evaluation until it ends")
    submit.add_argument("--resume", metavar="UPLOAD_ID",
                        help="go on with an interrupted upload (running the same command again does too)")
    submit.add_argument("--chunk-mb", type=float, default=CHUNK_MB,
                        help=f"size of each resumable chunk (default {CHUNK_MB}); tarballs, and predictions "
                             f"archives over {CHUNKED_ABOVE_MB} MB, go in chunks")
    submit.set_defaults(handler=cmd_submit)

    add_push_command(commands, common)
    add_init_command(commands, common)
    add_host_command(commands, common)

    status = commands.add_parser("status", parents=[common], help="show a submission")
    status.add_argument("id", type=int)
    status.add_argument("--wait", action="store_true", help="follow the evaluation until it ends")
    status.add_argument("--interval", type=float, default=3.0, help="seconds between checks (default 3)")
    status.add_argument("--timeout", type=float, default=None, help="give up waiting after this many seconds")
    status.set_defaults(handler=cmd_status)

    board = commands.add_parser("leaderboard", parents=[common], help="show a leaderboard")
    board.add_argument("slug")
    board.add_argument("--csv", action="store_true", help="print CSV")
    board.add_argument("--sort", help="metric to sort by")
    board.add_argument("--version", help="protocol hash prefix (default: current)")
    board.set_defaults(handler=cmd_leaderboard)
    return parser


def cmd_login(args: argparse.Namespace, client: Client, config: dict[str, Any]) -> int:
    token = args.token
    if not token:
        username = args.username or input("username: ")
        password = args.password or getpass.getpass("password: ")
        token = client.obtain_token(username, password)
    config.update({"server": client.server, "token": token})
    path = save_config(config)
    print(f"logged in to {client.server}; token saved in {path}")
    return 0


def cmd_benchmarks(args: argparse.Namespace, client: Client, config: dict[str, Any]) -> int:
    rows = []
    for benchmark in client.benchmarks():
        protocol = benchmark.get("current_protocol") or {}
        rank = next((m for m in benchmark["metrics"] if m["name"] == benchmark["rank_by"]), None)
        arrow = ("↑" if rank["higher_is_better"] else "↓") if rank else ""
        rows.append([benchmark["slug"], benchmark["task"], f"{benchmark['rank_by']} {arrow}",
                     (protocol.get("protocol_hash") or "not built")[:12], benchmark["title"]])
    print_table(["slug", "task", "ranked by", "protocol", "title"], rows)
    return 0


def cmd_download(args: argparse.Namespace, client: Client, config: dict[str, Any]) -> int:
    bar = tqdm(unit="B", unit_scale=True, unit_divisor=1024, desc=f"{args.slug} bundle", file=sys.stderr)
    with bar:
        path = client.download_bundle(args.slug, args.output, lambda total: setattr(bar, "total", total or None),
                                      bar.update)
    print(path)
    return 0


def cmd_submit(args: argparse.Namespace, client: Client, config: dict[str, Any]) -> int:
    fields = {
        "benchmark": args.slug, "method_name": args.method, "description": args.description,
        "paper_url": args.paper_url, "code_url": args.code_url, "is_public": "false" if args.private else "true",
    }
    with tempfile.TemporaryDirectory(prefix="toonbench-") as scratch:
        if args.image:
            fields.update(kind="image", image_ref=reference_to_submit(client, args.image))
            upload = None
        elif args.tarball:
            fields["kind"] = "tarball"
            upload = existing_file(args.tarball)
        else:
            fields["kind"] = "predictions"
            upload = predictions_archive(args.predictions, Path(scratch))
        if args.resume and upload is None:
            raise ClientError("--resume goes on with a --tarball or --predictions upload")
        if upload is not None and uses_chunks(fields["kind"], upload, args.resume):
            submission = submit_in_chunks(client, fields, upload, args.resume, int(args.chunk_mb * MEGABYTE))
        else:
            bar = tqdm(unit="B", unit_scale=True, unit_divisor=1024, desc="upload", file=sys.stderr,
                       disable=upload is None)
            with bar:
                submission = client.submit(fields, upload, lambda total: setattr(bar, "total", total), bar.update)
    print(f"submission #{submission['id']} {submission['status']}: {client.server}/submissions/{submission['id']}/")
    if args.wait:
        return follow(client, int(submission["id"]), interval=3.0, timeout=None)
    return 0


def existing_file(path: Path) -> Path:
    if not path.is_file():
        raise ClientError(f"{path}: no such file")
    return path


def predictions_archive(path: Path, scratch: Path) -> Path:
    """A zip to upload: the given zip, or the given output folder zipped."""
    if path.is_dir():
        return zip_folder(path, scratch / f"{path.resolve().name or 'predictions'}.zip")
    if path.is_file() and path.suffix.lower() == ".zip":
        return path
    raise ClientError(f"{path}: expected an output folder or a .zip of it")


def cmd_status(args: argparse.Namespace, client: Client, config: dict[str, Any]) -> int:
    if args.wait:
        return follow(client, args.id, args.interval, args.timeout)
    submission = client.submission(args.id)
    print_submission(submission)
    return exit_status(submission)


def follow(client: Client, submission_id: int, interval: float, timeout: float | None) -> int:
    """Poll until the submission ends, showing its progress through the job's stages."""
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
                print(f"still {submission['status']} after {timeout:g} s; check later with "
                      f"`toonbench status {submission_id}`", file=sys.stderr)
                return 3
            time.sleep(interval)
            submission = client.submission(submission_id)
    print_submission(submission)
    return exit_status(submission)


def exit_status(submission: dict[str, Any]) -> int:
    """0 while running or when finished; 1 when the evaluation ended without a result."""
    return 1 if submission["status"] in FINAL_STATUSES - {"finished"} else 0


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


def cmd_leaderboard(args: argparse.Namespace, client: Client, config: dict[str, Any]) -> int:
    if args.csv:
        sys.stdout.write(client.leaderboard_csv(args.slug, args.sort, args.version))
        return 0
    board = client.leaderboard(args.slug, args.sort, args.version)
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


if __name__ == "__main__":
    sys.exit(main())
