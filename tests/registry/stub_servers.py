"""Stub HTTP servers on loopback for the hostile-registry tests, and the names and routes the tests control.

A ``StubServer`` answers every GET with what its ``answer`` function returns
for the request, records each request it got, and counts the body bytes it
managed to send. ``Reply.trickle_s`` sends the reply (status line included,
or only the body) one byte at a time; ``Reply.stream`` sends a body of
unknown length until the client hangs up. ``FakeNames`` answers name
lookups as a test says; ``FakeRoutes`` plays the internet, carrying
connections to a public test address to a stub on loopback.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SEND_BUFFER_BYTES = 64 << 10


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    trickle_s: float = 0.0  # pause between single bytes
    trickle_headers: bool = False  # trickle the status line and headers too, not only the body
    trickle_for_s: float = 12.0  # then hang up, so a client without a deadline ends too
    stream: Iterator[bytes] | None = None  # a body of unknown length (no Content-Length)


def json_reply(document: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(document).encode())


class StubServer:
    """A threaded HTTP/1.0 server on ``host`` (port 0: any free one; HTTPS with ``tls``), started and stopped
    as a context manager."""

    def __init__(
        self, answer: Callable[[Request], Reply], host: str = "127.0.0.1", port: int = 0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.answer = answer
        self.requests: list[Request] = []
        self.sent_body_bytes = 0
        self._server = ThreadingHTTPServer((host, port), self._handler())
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def address(self) -> str:
        return f"{self._server.server_address[0]}:{self.port}"

    def __enter__(self) -> StubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                stub.requests.append(Request(self.path, dict(self.headers.items())))
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
                try:
                    stub._send(self, stub.answer(stub.requests[-1]))
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        return Handler

    def _send(self, handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        head = f"HTTP/1.0 {reply.status} Stub\r\n"
        headers = dict(reply.headers)
        if reply.stream is None:
            headers.setdefault("Content-Length", str(len(reply.body)))
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
        ends = time.monotonic() + reply.trickle_for_s
        if reply.trickle_s and reply.trickle_headers:
            self._trickle(handler, head.encode(), reply.trickle_s, ends)
        else:
            handler.wfile.write(head.encode())
            handler.wfile.flush()
        if reply.stream is not None:
            for chunk in reply.stream:
                handler.wfile.write(chunk)
                self.sent_body_bytes += len(chunk)
        elif reply.trickle_s:
            self.sent_body_bytes += self._trickle(handler, reply.body, reply.trickle_s, ends)
        else:
            handler.wfile.write(reply.body)
            self.sent_body_bytes += len(reply.body)

    @staticmethod
    def _trickle(handler: BaseHTTPRequestHandler, data: bytes, pause_s: float, ends: float) -> int:
        sent = 0
        for byte in data:
            if time.monotonic() > ends:
                break
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            sent += 1
            time.sleep(pause_s)
        return sent


class FakeNames:
    """``socket.getaddrinfo`` for chosen names: each lookup of a name gets the next of its answers (the last
    one repeats); every other name goes to the real resolver. Install with ``monkeypatch``."""

    def __init__(self, real: Callable[..., Any]) -> None:
        self.real = real
        self.answers: dict[str, list[list[str]]] = {}
        self.lookups: dict[str, int] = {}

    def add(self, name: str, *answers: list[str]) -> None:
        self.answers[name] = list(answers)

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in self.answers:
            return self.real(host, port, *args, **kwargs)
        count = self.lookups.get(name, 0)
        self.lookups[name] = count + 1
        addresses = self.answers[name][min(count, len(self.answers[name]) - 1)]
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [_info(address, int(port or 0)) for address in addresses]


def _info(address: str, port: int) -> tuple[Any, ...]:
    if ":" in address:
        return (socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port, 0, 0))
    return (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))


class FakeRoutes:
    """``urllib3.util.connection.create_connection`` (where every HTTP connection of the site starts) with
    routes: a connection to a routed public address reaches a loopback stub instead, and each connection's
    target is recorded. Install with ``monkeypatch``."""

    def __init__(self, real: Callable[..., Any]) -> None:
        self.real = real
        self.routes: dict[str, tuple[str, int]] = {}
        self.targets: list[str] = []

    def __call__(self, address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        host, port = address
        self.targets.append(host)
        return self.real(self.routes.get(host, (host, port)), *args, **kwargs)
