"""``toonbench submit BENCHMARK``: an image reference, a ``docker save`` tarball or a predictions folder."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from tqdm import tqdm

from toonbench_cli.client import Client, ClientError
from toonbench_cli.output import emit_json, note, submission_record
from toonbench_cli.push import reference_to_submit
from toonbench_cli.resumable import CHUNK_MB, CHUNKED_ABOVE_MB, MEGABYTE, submit_in_chunks, uses_chunks
from toonbench_cli.submissions import follow
from toonbench_cli.upload import zip_folder


def add_submit_command(commands: Any, common: argparse.ArgumentParser) -> None:
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
    submit.add_argument("--json", action="store_true",
                        help="print one JSON document (keys: docs/cli.md): the submission, as it ended with --wait")
    submit.add_argument("--resume", metavar="UPLOAD_ID",
                        help="go on with an interrupted upload (running the same command again does too)")
    submit.add_argument("--chunk-mb", type=float, default=CHUNK_MB,
                        help=f"size of each resumable chunk (default {CHUNK_MB}); tarballs, and predictions "
                             f"archives over {CHUNKED_ABOVE_MB} MB, go in chunks")
    submit.set_defaults(handler=cmd_submit)


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
    line = f"submission #{submission['id']} {submission['status']}: {client.server}/submissions/{submission['id']}/"
    if args.json:
        note(line)
    else:
        print(line)
    if args.wait:
        return follow(client, int(submission["id"]), interval=3.0, timeout=None, as_json=args.json)
    if args.json:
        emit_json(submission_record(submission, client.server))
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
