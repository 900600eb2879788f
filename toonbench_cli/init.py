"""``toonbench init BENCHMARK [FOLDER]``: the benchmark's starting kit, ready to build and push.

The kit comes from the benchmark's protocol bundle (its ``starter_kit/``):
``predict.py`` obeying the container contract, a ``Dockerfile`` FROM the
runtime image, and a README with the commands to build, score on the
development split and ``toonbench push``. With ``--json`` it prints what
it wrote and which protocol the kit is for (the bundle's ``protocol.json``).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from toonbench_cli.client import Client, ClientError
from toonbench_cli.output import emit_json, note

KIT_FOLDER = "starter_kit/"


def add_init_command(commands: Any, common: argparse.ArgumentParser) -> None:
    init = commands.add_parser("init", parents=[common], help="write a benchmark's starting kit into a folder")
    init.add_argument("slug", help="benchmark")
    init.add_argument("folder", nargs="?", type=Path, help="where to write it (default: ./<benchmark>-model)")
    init.add_argument("--force", action="store_true", help="overwrite kit files already in the folder")
    init.add_argument("--json", action="store_true", help="print one JSON document (keys: docs/cli.md)")
    init.set_defaults(handler=cmd_init)


def kit_members(bundle: Path, slug: str) -> dict[str, bytes]:
    """The starting kit's files in a downloaded bundle, by name."""
    prefix = f"{slug}/{KIT_FOLDER}"
    with zipfile.ZipFile(bundle) as archive:
        members = {name.removeprefix(prefix): archive.read(name) for name in archive.namelist()
                   if name.startswith(prefix) and not name.endswith("/")}
    if not members:
        raise ClientError(f"the {slug} protocol bundle holds no starting kit; the server may predate it")
    return members


def bundle_protocol(bundle: Path, slug: str) -> dict[str, Any]:
    """The bundle's ``protocol.json`` (empty when the bundle has none)."""
    with zipfile.ZipFile(bundle) as archive:
        try:
            return dict(json.loads(archive.read(f"{slug}/protocol.json")))
        except KeyError:
            return {}


def init_record(slug: str, folder: Path, written: list[Path], protocol: dict[str, Any]) -> dict[str, Any]:
    """What ``init --json`` prints: the folder (absolute), its kit files relative to it, the protocol."""
    return {
        "benchmark": slug,
        "folder": str(folder.resolve()),
        "files": [path.relative_to(folder).as_posix() for path in written],
        "version": protocol.get("version"),
        "protocol_hash": protocol.get("protocol_hash"),
    }


def write_kit(members: dict[str, bytes], folder: Path, force: bool) -> list[Path]:
    clashes = [name for name in members if (folder / name).exists()]
    if clashes and not force:
        raise ClientError(f"{folder} already has {', '.join(sorted(clashes))}; pass --force to overwrite")
    written = []
    for name, data in sorted(members.items()):
        target = folder / name
        if ".." in Path(name).parts or Path(name).is_absolute():
            raise ClientError(f"the bundle's kit names a path outside the folder: {name}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written.append(target)
    return written


def cmd_init(args: argparse.Namespace, client: Client, config: dict[str, Any]) -> int:
    folder = args.folder or Path(f"{args.slug}-model")
    with tempfile.TemporaryDirectory(prefix="toonbench-init-") as scratch:
        bundle = client.download_bundle(args.slug, Path(scratch) / "bundle.zip", lambda total: None, lambda read: None)
        members = kit_members(bundle, args.slug)
        protocol = bundle_protocol(bundle, args.slug)
    written = write_kit(members, folder, args.force)
    if args.json:
        emit_json(init_record(args.slug, folder, written, protocol))
    else:
        for path in written:
            print(path)
    note(f"next: cd {folder} && docker build -t {args.slug}-model:1 . (see README.md)")
    return 0
