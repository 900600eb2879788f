"""``toonbench host``: upload a benchmark (its spec and data), follow its build, publish it.

``toonbench host create spec.yaml --data data.zip`` (or ``--data FOLDER``,
zipped for you, or ``--data-folder NAME`` for data already under the
server's data root) sends the spec and data; ``--wait`` follows the build
until it is built or failed. ``toonbench host status SLUG`` shows the build,
``toonbench host publish SLUG`` shows a built benchmark to participants.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from toonbench_cli.client import Client, ClientError

FINAL_BUILD_STATES = {"built", "failed"}
POLL_S = 1.0


def add_host_command(commands: Any, common: argparse.ArgumentParser) -> None:
    host = commands.add_parser("host", parents=[common], help="upload, build and publish benchmarks (hosts)")
    actions = host.add_subparsers(dest="host_command", metavar="ACTION", required=True)
    create = actions.add_parser("create", parents=[common], help="upload a benchmark's spec and data")
    create.add_argument("spec", type=Path, help="the benchmark's YAML spec")
    data = create.add_mutually_exclusive_group(required=True)
    data.add_argument("--data", type=Path, help="a zip or tar of the data, or a folder to zip, laid out for the adapter")
    data.add_argument("--data-folder", help="a folder already under the server's data root")
    create.add_argument("--wait", action="store_true", help="follow the build until it is built or failed")
    create.set_defaults(handler=cmd_create)
    status = actions.add_parser("status", parents=[common], help="an uploaded benchmark's build state")
    status.add_argument("slug")
    status.add_argument("--wait", action="store_true", help="follow the build until it is built or failed")
    status.set_defaults(handler=cmd_status)
    publish = actions.add_parser("publish", parents=[common], help="show a built benchmark to participants")
    publish.add_argument("slug")
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
    print_build(record)
    return follow(client, record["slug"]) if args.wait else 0


def cmd_status(args: argparse.Namespace, client: Client, config: dict[str, Any]) -> int:
    record = client.get_json(f"benchmarks/{args.slug}/build/")
    print_build(record)
    return follow(client, args.slug) if args.wait and record["build_state"] not in FINAL_BUILD_STATES else 0


def cmd_publish(args: argparse.Namespace, client: Client, config: dict[str, Any]) -> int:
    print_build(client.request("POST", f"benchmarks/{args.slug}/publish/").json())
    return 0


def follow(client: Client, slug: str) -> int:
    """Print each new build state until the build ends; 1 when it failed."""
    last = None
    while True:
        record = client.get_json(f"benchmarks/{slug}/build/")
        if record["build_state"] != last:
            print_build(record)
            last = record["build_state"]
        if last in FINAL_BUILD_STATES:
            return 0 if last == "built" else 1
        time.sleep(POLL_S)


def print_build(record: dict[str, Any]) -> None:
    published = "published" if record.get("published") else "not published"
    print(f"{record['slug']}: {record['build_state']} ({published}): {record['build_message']}", file=sys.stdout)
