"""One guarded way out: every HTTP request made on a participant's behalf goes through ``Egress.get``.

A participant names the registry, and the registry names its token service
and may redirect; each of those could point the site or a worker at a
service inside the operator's network. So for every hop ``Egress``:

- resolves the name once per ``Deadline`` (a name that does not resolve is
  refused) and connects to that checked address, never resolving again at
  connect time (DNS rebinding); TLS still checks the certificate against
  the name, and the ``Host`` header carries the name;
- refuses any address that is not plainly public (``is_public_address``:
  loopback, private, link-local, ULA, multicast, reserved, and IPv4-mapped,
  NAT64 or 6to4 forms of those, Teredo), unless the host is one the
  operator allows (``may_reach_private``) or the request is ``trusted``
  (the platform registry's own);
- follows at most ``MAX_REDIRECTS`` redirects itself, each checked again;
- reads the body in chunks up to a byte cap, and stops everything at one
  overall deadline: the deadline's watchdog shuts every socket opened under
  it, whatever that socket is waiting for (a byte-a-second answer included).

Errors carry one sentence fragment and never the remote server's words.
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as LookupTimeout
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import requests.certs
import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util import Timeout, Url, parse_url

MAX_REDIRECTS = 3
CHUNK_BYTES = 64 << 10
ERROR_BODY_BYTES = 64 << 10
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
NAT64 = ipaddress.ip_network("64:ff9b::/96")
LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

# Name lookups cannot be interrupted, so they run here and the caller stops waiting at its deadline.
_LOOKUPS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="egress-lookup")


class EgressError(Exception):
    """A request that was refused or failed; the message is a fragment such as 'is unreachable (...)'."""


class AddressRefused(EgressError):
    def __init__(self, message: str, *, redirected: bool) -> None:
        super().__init__(message)
        self.redirected = redirected


class Unresolvable(EgressError):
    pass


class Unreachable(EgressError):
    pass


class DeadlineExceeded(EgressError):
    pass


class TooLarge(EgressError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"sent more than {limit} bytes")
        self.limit = limit


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside an IPv4-mapped, 6to4 or NAT64 (64:ff9b::/96) address; None for others."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public_address(address: str | IPAddress) -> bool:
    """True only for a globally routable unicast address; translated IPv4 forms are judged by their IPv4 part.

    ``ipaddress``'s ``is_global`` alone counts multicast, NAT64 and 6to4
    forms of private addresses as global, hence the extra checks.
    """
    if isinstance(address, str):
        address = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address):
        if address.teredo is not None or address in LOCAL_NAT64:
            return False
        embedded = embedded_ipv4(address)
        if embedded is not None:
            return is_public_address(embedded)
    return address.is_global and not (address.is_multicast or address.is_reserved or address.is_unspecified)


def system_resolver(name: str, port: int) -> list[str]:
    """The addresses ``name`` resolves to, in the system's order of preference (no duplicates)."""
    infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def no_host(host: str) -> bool:
    return False


class Deadline:
    """One overall deadline for a piece of work (resolving one reference), used as a context manager.

    Names are looked up once under it and keep what they resolved to. When it
    passes, a watchdog shuts down every socket opened under it, so a read
    blocked on a trickling server ends at the deadline too.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.addresses: dict[tuple[str, int], list[str]] = {}
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()

    def left(self) -> float:
        return self.end - time.monotonic()

    @property
    def expired(self) -> bool:
        return self._expired or self.left() <= 0

    def check(self) -> None:
        if self.expired:
            raise DeadlineExceeded(f"did not answer within the {self.seconds:g} s allowed")

    def watch(self, sock: socket.socket) -> None:
        """Shut ``sock`` down at the deadline; a duplicate descriptor still reaches it once TLS wraps it."""
        duplicate = sock.dup()
        with self._lock:
            self._sockets.append(duplicate)
            if self._expired:
                _shut(duplicate)

    def _expire(self) -> None:
        with self._lock:
            self._expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class _Watched:
    """Connection mixin: the socket it opens is handed to the deadline's watchdog."""

    def __init__(self, *args: Any, deadline: Deadline, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deadline = deadline

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        self.deadline.watch(sock)
        return sock


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str


class Egress:
    """Guarded GET requests (see the module docstring); one instance may serve many deadlines."""

    def __init__(
        self,
        *,
        may_reach_private: Callable[[str], bool] = no_host,
        resolver: Resolver = system_resolver,
        ca_certs: str | None = None,
    ) -> None:
        self.may_reach_private = may_reach_private
        self.resolver = resolver
        self.ca_certs = ca_certs or os.environ.get("REQUESTS_CA_BUNDLE") or requests.certs.where()

    def get(
        self,
        url: str,
        deadline: Deadline,
        *,
        headers: Mapping[str, str] | None = None,
        max_bytes: int,
        trusted: bool = False,
    ) -> Answer:
        """The final answer after at most ``MAX_REDIRECTS`` checked redirects.

        A 2xx body over ``max_bytes`` raises ``TooLarge``; other bodies are
        cut at ``ERROR_BODY_BYTES`` (only error codes are read from them).
        """
        sent = dict(headers or {})
        for hop in range(MAX_REDIRECTS + 1):
            answer = self._once(url, sent, deadline, max_bytes, trusted, redirected=hop > 0)
            location = answer.headers.get("Location")
            if answer.status not in REDIRECT_STATUSES or not location:
                return answer
            target = urljoin(url, location)
            if _parts(target).netloc != _parts(url).netloc:
                sent.pop("Authorization", None)
            url = target
        raise EgressError(f"redirected more than {MAX_REDIRECTS} times")

    def _once(
        self, url: str, headers: dict[str, str], deadline: Deadline, max_bytes: int, trusted: bool, *, redirected: bool
    ) -> Answer:
        deadline.check()
        parts = _parts(url)
        https = parts.scheme == "https"
        name = parts.host.strip("[]")
        port = parts.port or (443 if https else 80)
        allow_private = trusted or self.may_reach_private(str(parts.netloc))
        address = self._checked_address(name, port, deadline, allow_private, redirected)
        pool = self._pool(https, address, name, port, deadline)
        try:
            response = pool.urlopen(
                "GET", parts.request_uri, headers={**headers, "Host": str(parts.netloc)}, redirect=False,
                retries=False, preload_content=False, decode_content=False, assert_same_host=False,
                timeout=Timeout(connect=max(deadline.left(), 0.001), read=max(deadline.left(), 0.001)),
            )
            try:
                ok = 200 <= response.status < 300
                body = b"" if response.status in REDIRECT_STATUSES else _read(
                    response, deadline, max_bytes if ok else min(max_bytes, ERROR_BODY_BYTES), refuse_more=ok)
            finally:
                response.release_conn()
        except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError, ValueError) as exc:
            deadline.check()
            raise Unreachable(f"is unreachable ({type(exc).__name__})") from None
        finally:
            pool.close()
        return Answer(response.status, response.headers, body, url)

    def _checked_address(self, name: str, port: int, deadline: Deadline, allow_private: bool, redirected: bool) -> str:
        """The first address ``name`` resolves to (looked up once per deadline), once all its addresses pass."""
        addresses = deadline.addresses.get((name, port))
        if addresses is None:
            addresses = deadline.addresses[(name, port)] = self._lookup(name, port, deadline)
        if not addresses:
            raise Unresolvable("is unreachable (its name does not resolve)")
        if not allow_private and not all(is_public_address(address) for address in addresses):
            where = "redirected to" if redirected else "is on"
            raise AddressRefused(f"{where} a private or loopback address", redirected=redirected)
        return addresses[0]

    def _lookup(self, name: str, port: int, deadline: Deadline) -> list[str]:
        try:
            ipaddress.ip_address(name)
        except ValueError:
            pass
        else:
            return [name]
        try:
            return _LOOKUPS.submit(self.resolver, name, port).result(timeout=max(deadline.left(), 0))
        except LookupTimeout:
            deadline.check()
            raise DeadlineExceeded(f"did not answer within the {deadline.seconds:g} s allowed") from None
        except (OSError, UnicodeError, ValueError):
            return []

    def _pool(self, https: bool, address: str, name: str, port: int, deadline: Deadline) -> HTTPConnectionPool:
        host = f"[{address}]" if ":" in address else address
        if not https:
            return _HTTPPool(host, port, maxsize=1, retries=False, deadline=deadline)
        return _HTTPSPool(host, port, maxsize=1, retries=False, deadline=deadline, server_hostname=name,
                          assert_hostname=name, cert_reqs="CERT_REQUIRED", ca_certs=self.ca_certs)


def _parts(url: str) -> Url:
    """The URL's parts, for http(s) URLs with a host only."""
    try:
        parts = parse_url(url)
    except ValueError:
        raise EgressError("named something that is not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.host:
        raise EgressError("named a URL that is not http(s)")
    return parts


def _read(response: Any, deadline: Deadline, max_bytes: int, *, refuse_more: bool) -> bytes:
    """The body, chunk by chunk; past ``max_bytes`` it raises ``TooLarge`` (or, for errors, is cut there)."""
    declared = str(response.headers.get("Content-Length", ""))
    if refuse_more and declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge(max_bytes)
    body = bytearray()
    while len(body) <= max_bytes:
        deadline.check()
        chunk = response.read1(CHUNK_BYTES)
        if not chunk:
            deadline.check()  # the watchdog's shutdown reads as an end of body
            return bytes(body)
        body += chunk
    if refuse_more:
        raise TooLarge(max_bytes)
    return bytes(body[:max_bytes])
