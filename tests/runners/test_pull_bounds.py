"""Pulls bounded in time and locked per reference: against a stub Docker engine on loopback, and the real one.

The stub answers the engine API the way dockerd does (image inspect, a
``POST /images/create`` whose answer streams JSON lines) and can stay silent
as long as a test likes, so a pull the engine says nothing about can be made
on purpose. The real engine is also pointed at a registry on loopback that
stalls after the engine's ping. The registry's part of ``ensure_image`` (the
declared size) is a stand-in: these tests are about what happens once the
engine pulls. The real engine with a layer that inflates past the cap is in
tests/registry/test_registry_pull_bounds.py.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import docker
import pytest

from evaluator.runners import ImageUnavailable
from evaluator.runners.base import MEGABYTE
from evaluator.runners.images import ImageCache, PullSettings, ensure_image

API = "1.41"
PINNED = "registry.example:5000/alice/model@sha256:" + "a" * 64
OTHER = "registry.example:5000/bob/model@sha256:" + "b" * 64
BOUND_S = 60  # only so a broken lock or deadline fails the test instead of hanging it


@dataclass
class StubEngine:
    """What the stub serves and what it saw; ``release`` lets a held pull go on."""

    present: dict[str, int] = field(default_factory=dict)  # reference -> image size in bytes
    silent: bool = False  # a pull's answer: headers and one line, then nothing until released
    answer_nothing: bool = False  # a pull gets no answer at all, not even headers
    size_after_pull: int = MEGABYTE
    creates: list[str] = field(default_factory=list)
    inspects: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    pulling: threading.Event = field(default_factory=threading.Event)
    client_gone: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


def _handler(engine: StubEngine) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            path = unquote(urlsplit(self.path).path)
            name = path.removeprefix(f"/v{API}/images/").removesuffix("/json")
            engine.inspects.append(name)
            if name in engine.present:
                self._json(200, {"Id": "sha256:" + hashlib.sha256(name.encode()).hexdigest(), "Size": engine.present[name]})
            else:
                self._json(404, {"message": f"No such image: {name}"})

        def do_DELETE(self) -> None:
            name = unquote(urlsplit(self.path).path).removeprefix(f"/v{API}/images/")
            engine.removed.append(name)
            engine.present.pop(name, None)
            self._json(200, [{"Untagged": name}])

        def do_POST(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            reference = f"{query['fromImage'][0]}@{query['tag'][0]}"
            engine.creates.append(reference)
            engine.pulling.set()
            if engine.answer_nothing:
                self._wait_for_client()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self._chunk({"status": "Pulling from alice/model", "id": reference})
            if engine.silent:
                self._wait_for_client()
                return
            engine.release.wait(BOUND_S)
            self._chunk({"status": "Pull complete", "progressDetail": {}, "id": "0123456789ab"})
            engine.present[reference] = engine.size_after_pull
            self.wfile.write(b"0\r\n\r\n")

        def _wait_for_client(self) -> None:
            """Say nothing until the client hangs up (what dockerd sees as a cancelled pull)."""
            self.connection.settimeout(BOUND_S)
            try:
                while self.connection.recv(1):
                    pass
                engine.client_gone.set()
            except OSError:
                pass
            self.close_connection = True

        def _chunk(self, event: dict[str, Any]) -> None:
            data = json.dumps(event).encode() + b"\r\n"
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def _json(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@pytest.fixture
def stub_engine() -> Iterator[tuple[StubEngine, Any]]:
    stub = StubEngine()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stub))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client = docker.DockerClient(base_url=f"tcp://127.0.0.1:{server.server_address[1]}", version=API)
    yield stub, client
    stub.release.set()
    server.shutdown()
    server.server_close()


class DeclaredSmall:
    """Stands in for the registry: every image is there, 1 MB as declared."""

    size_bytes = MEGABYTE

    def resolve(self, reference: Any) -> DeclaredSmall:
        return self

    def size_problem(self, name: str, limit_mb: float) -> str:
        return ""


def settings(tmp_path: Path, timeout_s: float = BOUND_S, max_image_mb: float = 50) -> PullSettings:
    return PullSettings(registry=DeclaredSmall(), cache_file=tmp_path / "image-cache.json",  # type: ignore[arg-type]
                        credentials=lambda host: None, timeout_s=timeout_s, max_image_mb=max_image_mb)


def outcome(action: Callable[[], Any]) -> tuple[bool, Any]:
    """Run ``action`` in a thread: (whether it ended within BOUND_S, its result or the exception it raised)."""
    box: list[Any] = []

    def run() -> None:
        try:
            box.append(action())
        except Exception as exc:  # noqa: BLE001 - handed back to the test
            box.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(BOUND_S)
    return (not thread.is_alive(), box[0] if box else None)


@pytest.mark.parametrize("answer_nothing", [False, True], ids=["silent-after-one-line", "no-answer-at-all"])
def test_a_pull_the_engine_says_nothing_about_stops_at_the_deadline(stub_engine, tmp_path: Path, answer_nothing: bool) -> None:  # type: ignore[no-untyped-def]
    stub, client = stub_engine
    stub.silent, stub.answer_nothing = True, answer_nothing
    ended, result = outcome(lambda: ensure_image(client, PINNED, settings(tmp_path, timeout_s=1)))
    assert ended
    assert isinstance(result, ImageUnavailable)
    assert str(result) == f"pulling {PINNED} took longer than the limit of 1 s and was stopped"
    assert stub.client_gone.wait(BOUND_S)  # the engine is told: it cancels the pull
    assert stub.creates == [PINNED]


def test_a_cache_hit_does_not_wait_for_another_images_pull(stub_engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    stub, client = stub_engine
    stub.present[OTHER] = 3 * MEGABYTE
    stub.silent = True
    slow = threading.Thread(target=outcome, daemon=True,
                            args=(lambda: ensure_image(client, PINNED, settings(tmp_path, timeout_s=3)),))
    slow.start()
    assert stub.pulling.wait(BOUND_S)  # PINNED's pull has begun and holds its lock
    ended, image = outcome(lambda: ensure_image(client, OTHER, settings(tmp_path)))
    assert ended and image.attrs["Size"] == 3 * MEGABYTE
    assert stub.creates == [PINNED]
    slow.join(BOUND_S)


def test_two_workers_needing_the_same_image_pull_it_once(stub_engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    stub, client = stub_engine
    results: list[tuple[bool, Any]] = []
    workers = [threading.Thread(target=lambda: results.append(outcome(lambda: ensure_image(client, PINNED, settings(tmp_path)))))
               for _ in range(2)]
    workers[0].start()
    assert stub.pulling.wait(BOUND_S)
    workers[1].start()
    deadline = time.monotonic() + BOUND_S
    while stub.inspects.count(PINNED) < 3 and time.monotonic() < deadline:  # the second found no image
        time.sleep(0.05)
    time.sleep(0.2)  # and reached the pull lock
    stub.release.set()
    for worker in workers:
        worker.join(BOUND_S)
    assert stub.creates == [PINNED]
    assert [ended for ended, _ in results] == [True, True]
    assert results[0][1].id == results[1][1].id
    assert list(ImageCache(tmp_path / "image-cache.json").load()) == [PINNED]


def test_an_image_bigger_once_pulled_than_the_cap_is_removed_and_refused(stub_engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    stub, client = stub_engine
    stub.size_after_pull = 80 * MEGABYTE
    stub.release.set()
    with pytest.raises(ImageUnavailable) as refused:
        ensure_image(client, PINNED, settings(tmp_path, max_image_mb=50))
    assert str(refused.value) == f"{PINNED}: the image is 80 MB once pulled, over the limit of 50 MB, and was removed"
    assert stub.removed == [PINNED] and PINNED not in stub.present
    assert ImageCache(tmp_path / "image-cache.json").load() == {}


def stall(connection: socket.socket) -> None:
    """Be a registry that answers the engine's ping and then never answers (plain HTTP; TLS refused at once)."""
    connection.settimeout(BOUND_S)
    with connection:
        try:
            request = connection.recv(4096)
            if request.startswith(b"GET /v2/ "):
                connection.sendall(b"HTTP/1.1 200 OK\r\nDocker-Distribution-API-Version: registry/2.0\r\n"
                                   b"Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
                return
            while not request.startswith(b"\x16") and connection.recv(4096):  # the manifest request: held
                pass
        except OSError:
            return


@pytest.fixture
def stalling_registry() -> Iterator[str]:
    listener = socket.create_server(("127.0.0.1", 0))

    def accept() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=stall, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield f"127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


@pytest.mark.docker
def test_the_real_engine_pulling_from_a_registry_that_stalls_is_stopped_at_the_deadline(  # type: ignore[no-untyped-def]
    docker_client, stalling_registry, tmp_path: Path
) -> None:
    pinned = f"{stalling_registry}/alice/model@sha256:" + "c" * 64
    ended, result = outcome(lambda: ensure_image(docker_client, pinned, settings(tmp_path, timeout_s=2)))
    assert ended
    assert str(result) == f"pulling {pinned} took longer than the limit of 2 s and was stopped"
