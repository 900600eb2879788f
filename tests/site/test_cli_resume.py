"""The CLI sends a ``docker save`` tarball in chunks to a live server and resumes after dropped connections.

A relay between the CLI and the live server drops the connection in the
middle of a chunk (and, for the interrupted runs, refuses connections for a
while). The server records every range of bytes it stores: after resuming,
the ranges tile the file exactly, so each byte was stored once, and the
artefact is byte-identical.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import struct
import threading
import uuid
from pathlib import Path
from typing import BinaryIO, Callable
from urllib.parse import urlsplit

import pytest
from rest_framework.authtoken.models import Token

from saved_image import docker_saved_tarball
from uploads import chunked
from submissions.models import Submission
from uploads.models import ChunkedUpload
from toonbench_cli import resumable
from toonbench_cli.main import main
from toonbench_site.celery import app as celery_app

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.docker]

MB = 1024 * 1024


class DroppingRelay:
    """A TCP relay in front of a server that drops connections the way a flaky network does.

    ``cut_after(n)``: once ``n`` more bytes went from client to server, that
    connection is reset on the client's side and closed on the server's.
    While ``down`` is true every new connection is reset at once.
    """

    def __init__(self, target_url: str) -> None:
        parts = urlsplit(target_url)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.lock = threading.Lock()
        self.forwarded = 0
        self.cut_at: int | None = None
        self.down_after_cut = False
        self.down = False
        threading.Thread(target=self._accept, daemon=True).start()

    def cut_after(self, count: int, then_down: bool = False) -> None:
        with self.lock:
            self.cut_at = self.forwarded + count
            self.down_after_cut = then_down

    def close(self) -> None:
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.down:
                reset(client)
                continue
            upstream = socket.create_connection(self.target)
            threading.Thread(target=self._to_server, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._to_client, args=(upstream, client), daemon=True).start()

    def _to_server(self, client: socket.socket, upstream: socket.socket) -> None:
        while data := receive(client):
            with self.lock:
                allowed = len(data) if self.cut_at is None else min(len(data), self.cut_at - self.forwarded)
                cut = allowed < len(data)
                self.forwarded += allowed
                if cut:
                    self.cut_at = None
                    self.down = self.down_after_cut
            try:
                upstream.sendall(data[:allowed])
            except OSError:
                return
            if cut:
                shut(upstream)
                reset(client)
                return
        shut(upstream, socket.SHUT_WR)

    def _to_client(self, upstream: socket.socket, client: socket.socket) -> None:
        while data := receive(upstream):
            try:
                client.sendall(data)
            except OSError:
                break
        shut(client)


def receive(sock: socket.socket) -> bytes:
    try:
        return sock.recv(64 * 1024)
    except OSError:
        return b""


def shut(sock: socket.socket, how: int = socket.SHUT_RDWR) -> None:
    try:
        sock.shutdown(how)
    except OSError:
        pass


def reset(sock: socket.socket) -> None:
    """Close with a TCP reset, as a dropped connection looks to the sender."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


@pytest.fixture(scope="module")
def image_tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return docker_saved_tarball(tmp_path_factory.mktemp("image") / "model.tar")


@pytest.fixture
def relay(live_server, site, tmp_path):  # type: ignore[no-untyped-def]
    site.TOONBENCH_UPLOAD_DIR = tmp_path / "uploads"
    proxy = DroppingRelay(live_server.url)
    yield proxy
    proxy.close()


@pytest.fixture
def stored_ranges(monkeypatch) -> list[tuple[int, int, int]]:  # type: ignore[no-untyped-def]
    """Every (offset, bytes stored, bytes announced) of a chunk the server wrote."""
    ranges: list[tuple[int, int, int]] = []
    copy = chunked._copy_pieces

    def recording(read: Callable[[int], bytes], sink: BinaryIO, length: int) -> int:
        start = sink.tell()
        written = copy(read, sink, length)
        ranges.append((start, written, length))
        return written

    monkeypatch.setattr(chunked, "_copy_pieces", recording)
    return ranges


@pytest.fixture
def cli(relay, alice, tmp_path, monkeypatch, capsys):  # type: ignore[no-untyped-def]
    """Runs ``toonbench`` against the relay, logged in as alice; returns (exit status, stdout, stderr)."""
    monkeypatch.setenv("TOONBENCH_CONFIG", str(tmp_path / "config" / "config.json"))
    monkeypatch.delenv("TOONBENCH_SERVER", raising=False)
    monkeypatch.setattr(resumable, "FIRST_PAUSE_S", 0.2)
    assert main(["--server", relay.url, "login", "--token", Token.objects.create(user=alice).key]) == 0
    capsys.readouterr()

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.fixture
def eager_jobs():  # type: ignore[no-untyped-def]
    """The evaluation runs inside the request that completes the upload, as a worker would run it."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def submit_argv(tarball: Path, *extra: str) -> list[str]:
    return ["submit", "toonnet", "--tarball", str(tarball), "--method", "resumed model", "--chunk-mb", "1", *extra]


def assert_each_byte_stored_once(ranges: list[tuple[int, int, int]], size: int) -> None:
    end = 0
    for start, written, _ in sorted(ranges):
        assert start == end, f"bytes from {start} stored again or skipped (expected {end})"
        end = start + written
    assert end == size
    assert any(written < announced for _, written, announced in ranges), "no chunk was cut short"


def assert_submitted_byte_identical(out: str, tarball: Path) -> None:
    submission_id = int(re.search(r"submission #(\d+)", out).group(1))  # type: ignore[union-attr]
    submission = Submission.objects.get(pk=submission_id)
    assert submission.kind == "tarball" and submission.method_name == "resumed model"
    with submission.artefact.open("rb") as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == hashlib.sha256(tarball.read_bytes()).hexdigest()
    assert not ChunkedUpload.objects.exists()


def pending_uploads() -> dict[str, str]:
    return dict(json.loads(resumable.pending_path().read_text()))


def test_a_connection_dropped_mid_chunk_is_resumed_in_the_same_run(
    cli, relay, toonnet, image_tarball, stored_ranges, eager_jobs  # type: ignore[no-untyped-def]
) -> None:
    size = image_tarball.stat().st_size
    relay.cut_after(MB + MB // 2)
    code, out, err = cli(*submit_argv(image_tarball))
    assert code == 0, err
    assert "asking for the offset again" in err
    assert_each_byte_stored_once(stored_ranges, size)
    assert_submitted_byte_identical(out, image_tarball)
    assert pending_uploads() == {}


def test_an_interrupted_run_is_resumed_by_running_the_same_command_again(
    cli, relay, toonnet, image_tarball, stored_ranges, eager_jobs, monkeypatch  # type: ignore[no-untyped-def]
) -> None:
    size = image_tarball.stat().st_size
    monkeypatch.setattr(resumable, "RETRIES", 2)
    relay.cut_after(2 * MB + MB // 3, then_down=True)
    code, _, err = cli(*submit_argv(image_tarball))
    assert code == 5
    upload_id = re.search(r"add --resume ([0-9a-f-]{36}), to go on where it stopped", err).group(1)  # type: ignore[union-attr]
    assert list(pending_uploads().values()) == [upload_id]
    kept = ChunkedUpload.objects.get(pk=upload_id).received_bytes
    assert 2 * MB < kept < size

    relay.down = False
    code, out, err = cli(*submit_argv(image_tarball))
    assert code == 0, err
    assert f"resuming upload {upload_id} at {kept} of {size} bytes" in err
    assert_each_byte_stored_once(stored_ranges, size)
    assert_submitted_byte_identical(out, image_tarball)
    assert pending_uploads() == {}


def test_resume_names_an_upload_explicitly_and_explains_a_gone_one(
    cli, relay, toonnet, image_tarball, stored_ranges, eager_jobs, monkeypatch  # type: ignore[no-untyped-def]
) -> None:
    size = image_tarball.stat().st_size
    monkeypatch.setattr(resumable, "RETRIES", 1)
    relay.cut_after(MB // 2, then_down=True)
    code, _, err = cli(*submit_argv(image_tarball))
    assert code == 5
    upload_id = re.search(r"--resume ([0-9a-f-]{36})", err).group(1)  # type: ignore[union-attr]
    resumable.pending_path().unlink()
    relay.down = False

    code, out, err = cli(*submit_argv(image_tarball, "--resume", upload_id))
    assert code == 0, err
    assert f"resuming upload {upload_id}" in err
    assert_each_byte_stored_once(stored_ranges, size)
    assert_submitted_byte_identical(out, image_tarball)

    gone = str(uuid.uuid4())
    code, _, err = cli(*submit_argv(image_tarball, "--resume", gone))
    assert code == 4
    assert f"upload {gone} is no longer on the server" in err
