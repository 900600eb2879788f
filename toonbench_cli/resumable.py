"""Large artefacts go to the server in resumable chunks (its ``/api/uploads/`` endpoints).

A dropped connection costs a pause, not the upload: the client asks the
server for its offset and sends on from there, with a bounded number of
retries and growing pauses. The id of an unfinished upload is kept in the
config folder (``uploads.json`` beside ``config.json``), keyed by server,
benchmark, kind and the file's sha256, so running the same command again
resumes it; ``--resume ID`` names an upload explicitly.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from toonbench_cli.client import Client, ClientError
from toonbench_cli.config import config_path, write_private_json
from toonbench_cli.upload import FileSlice, file_sha256

MEGABYTE = 1024 * 1024
CHUNK_MB = 16
# Predictions archives up to this size still go in one request; image tarballs always go in chunks.
CHUNKED_ABOVE_MB = 100
RETRIES = 6
FIRST_PAUSE_S = 1.0
LONGEST_PAUSE_S = 30.0
# No answer, a busy upload, or a proxy or server in trouble: worth asking for the offset and trying again.
RETRYABLE_STATUSES = {None, 408, 423, 500, 502, 503, 504}
DETAIL_FIELDS = ("method_name", "description", "paper_url", "code_url", "is_public")


def uses_chunks(kind: str, path: Path, resume: str | None) -> bool:
    return kind == "tarball" or resume is not None or path.stat().st_size > CHUNKED_ABOVE_MB * MEGABYTE


def pending_path() -> Path:
    return config_path().parent / "uploads.json"


def load_pending() -> dict[str, str]:
    try:
        return dict(json.loads(pending_path().read_text()))
    except (OSError, ValueError, TypeError):
        return {}


def save_pending(pending: dict[str, str]) -> None:
    write_private_json(pending_path(), pending)


def remember(key: str, upload_id: str | None) -> None:
    """Record (or with None, forget) the unfinished upload of ``key``."""
    pending = load_pending()
    if upload_id is None:
        pending.pop(key, None)
    else:
        pending[key] = upload_id
    save_pending(pending)


def pending_key(server: str, benchmark: str, kind: str, sha256: str) -> str:
    return f"{server} {benchmark} {kind} {sha256}"


def pause_s(failures: int) -> float:
    return float(min(FIRST_PAUSE_S * 2 ** (failures - 1), LONGEST_PAUSE_S))


def submit_in_chunks(client: Client, fields: dict[str, str], path: Path, resume: str | None,
                     chunk_bytes: int) -> dict[str, Any]:
    """Upload ``path`` in chunks (resuming ``resume`` or the remembered upload), then submit it."""
    if chunk_bytes <= 0:
        raise ClientError(f"--chunk-mb: chunks of {chunk_bytes} bytes; expected a positive number of megabytes")
    size = path.stat().st_size
    if size == 0:
        raise ClientError(f"{path}: the file is empty")
    with tqdm(total=size, unit="B", unit_scale=True, unit_divisor=1024, desc="sha256", file=sys.stderr) as bar:
        sha256 = file_sha256(path, bar.update)
    key = pending_key(client.server, fields["benchmark"], fields["kind"], sha256)
    upload = resumed_upload(client, resume or load_pending().get(key), resume is not None, path, size, sha256)
    if upload is None:
        upload = client.create_upload({"benchmark": fields["benchmark"], "kind": fields["kind"],
                                       "filename": path.name, "total_bytes": size, "sha256": sha256})
    remember(key, upload["id"])
    chunk_bytes = max(1, min(chunk_bytes, int(upload.get("chunk_max_bytes") or chunk_bytes)))
    try:
        send_rest(client, upload, path, size, chunk_bytes)
    except ClientError as exc:
        if exc.status in (404, 410):
            remember(key, None)
        raise
    except KeyboardInterrupt:
        print(f"upload {upload['id']} paused; run the same command again, or add --resume {upload['id']}, "
              "to go on where it stopped", file=sys.stderr)
        raise
    try:
        submission = client.complete_upload(upload["id"], {name: fields[name] for name in DETAIL_FIELDS})
    except ClientError as exc:
        if exc.status in (409, 429):
            raise ClientError(f"{exc}; run the same command again to submit the uploaded file") from None
        remember(key, None)
        if exc.status is None:
            raise ClientError(f"{exc}; the submission may have been made all the same: look at {client.server}"
                              f"/submissions/ and, if it is not there, add --resume {upload['id']}",
                              unreachable=exc.unreachable) from None
        raise
    remember(key, None)
    return submission


def resumed_upload(client: Client, upload_id: str | None, explicit: bool, path: Path, size: int,
                   sha256: str) -> dict[str, Any] | None:
    """The server's record of the upload to resume, or None to start a new one."""
    if upload_id is None:
        return None
    try:
        upload = client.upload_status(upload_id)
    except ClientError as exc:
        if exc.status != 404:
            raise
        if explicit:
            raise ClientError(f"upload {upload_id} is no longer on the server (unfinished uploads expire); "
                              "run the command without --resume to upload the file again", exc.status) from None
        print(f"upload {upload_id} expired on the server; starting again", file=sys.stderr)
        return None
    if upload["total_bytes"] != size or (upload.get("sha256") or sha256) != sha256:
        if explicit:
            raise ClientError(f"upload {upload_id} holds {upload['filename']} ({upload['total_bytes']} bytes), "
                              f"not {path} ({size} bytes)")
        return None
    print(f"resuming upload {upload_id} at {upload['offset']} of {size} bytes", file=sys.stderr)
    return upload


def send_rest(client: Client, upload: dict[str, Any], path: Path, size: int, chunk_bytes: int) -> None:
    """Send the bytes from the server's offset to the end; after a failure, ask for the offset and go on."""
    offset: int | None = int(upload["offset"])
    failures = 0
    with tqdm(total=size, initial=offset, unit="B", unit_scale=True, unit_divisor=1024, desc="upload",
              file=sys.stderr) as bar:
        while True:
            try:
                if offset is None:
                    offset = client.upload_offset(upload["id"])
                bar.n = offset
                bar.refresh()
                if offset >= size:
                    return
                with FileSlice(path, offset, min(chunk_bytes, size - offset), bar.update) as body:
                    offset = client.append_chunk(upload["id"], offset, body)
                failures = 0
            except ClientError as exc:
                if exc.status in (404, 410):
                    message = f"{exc}; run the same command again to upload the file anew"
                    raise ClientError(message, exc.status) from None
                if exc.status not in RETRYABLE_STATUSES or failures >= RETRIES:
                    raise ClientError(interrupted_message(upload, path, size, exc), exc.status,
                                      exc.unreachable) from None
                failures += 1
                bar.write(f"{exc}; asking for the offset again in {pause_s(failures):g} s "
                          f"(retry {failures} of {RETRIES})", file=sys.stderr)
                time.sleep(pause_s(failures))
                offset = None


def interrupted_message(upload: dict[str, Any], path: Path, size: int, exc: ClientError) -> str:
    return (
        f"the upload of {path.name} ({size} bytes) stopped: {exc}. Run the same command again, or add "
        f"--resume {upload['id']}, to go on where it stopped (the server removes unfinished uploads that get "
        "no chunk for a while, 24 h by default)"
    )
