"""``toonbench host``: upload a benchmark (its spec and data), follow its build, publish it.

``toonbench host create spec.yaml --data data.zip`` (or ``--data FOLDER``,
zipped for you, or ``--data-folder NAME`` for data already under the
server's data root) sends the spec and data; ``--wait`` follows the build
until it is built or failed. ``toonbench host status SLUG`` shows the build,
``toonbench host publish SLUG`` shows a built benchmark to participants.
With ``--json`` each prints the build record (``BUILD_KEYS``); the states
``--wait`` passes through go to stderr.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any, Callable

from toonbench_cli.client import Client, ClientError
from toonbench_cli.output import emit_json, note

BUILDING_STATES = {"queued", "building"}
POLL_S = 1.0
BUILD_KEYS = ("slug", "origin", "build_state", "build_message", "published")
JSON_HELP = "print one JSON document (keys: docs/cli.md)"


def add_host_command(commands: Any, common: argparse.ArgumentParser) -> None:
    host = commands.add_parser("host", parents=[common], help="upload, build and publish benchmarks (hosts)")
    actions = host.add_subparsers(dest="host_command", metavar="ACTION", required=True)
    create = actions.add_parser("create", parents=[common], help="upload a benchmark's spec and data")
    create.add_argument("spec", type=Path, help="the benchmark's YAML spec")
    data = create.add_mutually_exclusive_group(required=True)
    data.add_argument("--data", type=Path, help="a zip or tar of the data, or a folder to zip, laid out for the adapter")
    data.add_argument("--data-folder", help="a folder already under the server's data root")
    create.add_argument("--wait", action="store_true", help="follow the build until it is built or failed")
    create.add_argument("--json", action="store_true", help=JSON_HELP)
    create.set_defaults(handler=cmd_create)
    status = actions.add_parser("status", parents=[common], help="an uploaded benchmark's build state")
    status.add_argument("slug")
    status.add_argument("--wait", action="store_true", help="follow the build until it is built or failed")
    status.add_argument("--json", action="store_true", help=JSON_HELP)
    status.set_defaults(handler=cmd_status)
    publish = actions.add_parser("publish", parents=[common], help="show a built benchmark to participants")
    publish.add_argument("slug")
    publish.add_argument("--json", action="store_true", help=JSON_HELP)
    publish.set_defaults(handler=cmd_publish)


def zipped(folder: Path, target: Path) -> Path:
    """Every file under ``folder``, with paths relative to it."""
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    if not files:
        raise ClientError(f"{folder}: the data folder is empty")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.relative_to(folder).as_posix())
    return target


def cmd_create(args: argparse.Namespace, client: Client, config: dict[str, Any]) -> int:
    if not args.spec.is_file():
        raise ClientError(f"{args.spec}: no such spec file")
    with tempfile.TemporaryDirectory() as scratch:
        files = {"spec": (args.spec.name, args.spec.read_bytes(), "application/yaml")}
        fields = {}
        if args.data_folder:
            fields["data_folder"] = args.data_folder
        elif args.data.is_dir():
            archive = zipped(args.data, Path(scratch) / "data.zip")
            files["archive"] = (archive.name, archive.read_bytes(), "application/zip")
        elif args.data.is_file():
            files["archive"] = (args.data.name, args.data.read_bytes(), "application/octet-stream")
        else:
            raise ClientError(f"{args.data}: no such file or folder")
        record = client.request("POST", "benchmarks/", files=files, data=fields).json()
    return report(client, record, args.wait, args.json)


def cmd_status(args: argparse.Namespace, client: Client, config: dict[str, Any]) -> int:
    return report(client, client.get_json(f"benchmarks/{args.slug}/build/"), args.wait, args.json)


def cmd_publish(args: argparse.Namespace, client: Client, config: dict[str, Any]) -> int:
    return report(client, client.request("POST", f"benchmarks/{args.slug}/publish/").json(), False, args.json)


def report(client: Client, record: dict[str, Any], wait: bool, as_json: bool) -> int:
    """Show the build, or with ``wait`` each state it passes through until it ends (1 when it failed).

    With ``as_json`` the states are progress on stderr and stdout gets the last record only.
    """
    if wait:
        record = follow(client, record, note if as_json else print)
    elif not as_json:
        print(build_line(record))
    if as_json:
        emit_json({key: record.get(key) for key in BUILD_KEYS})
    return 1 if wait and record["build_state"] == "failed" else 0


def follow(client: Client, record: dict[str, Any], show: Callable[[str], None]) -> dict[str, Any]:
    """Show each new build state while the build is queued or building; returns the last record."""
    show(build_line(record))
    while record["build_state"] in BUILDING_STATES:
        time.sleep(POLL_S)
        latest = client.get_json(f"benchmarks/{record['slug']}/build/")
        if latest["build_state"] != record["build_state"]:
            show(build_line(latest))
        record = latest
    return record


def build_line(record: dict[str, Any]) -> str:
    published = "published" if record.get("published") else "not published"
    state = record["build_state"] or "not built by the site"
    message = f": {record['build_message']}" if record.get("build_message") else ""
    return f"{record['slug']}: {state} ({published}){message}"
