"""Read a running ``docker pull`` and watch it from beside: its deadline, and how much it grows the engine's storage.

A pull's stream may stay silent for as long as the engine likes (a registry
that stalls, a layer that inflates without the engine reporting progress), so
the watch runs in its own thread and, when the pull has to end, shuts down
the socket the pull's answer arrives on: the reader wakes up at once, and the
engine, seeing its client gone, cancels the pull and deletes the layers it
had not finished. (dockerd 20.10 does not cancel a manifest request its
registry has not answered yet: that request stays open inside the engine
until the registry answers or drops it; the worker is free at the deadline
all the same.)

The storage reading is ``shutil.disk_usage`` (one ``statvfs`` call) on the
file system that holds the engine's root directory (``DockerRootDir``): cheap
enough to take every ``POLL_S``, and it counts what a decompression bomb
costs, wherever in that directory the storage driver writes (overlay2, vfs,
the download's temporary files). ``docker system df`` would attribute bytes
to images, but takes seconds and only sees finished layers; a ``du`` of the
root directory walks every file of every image. The reading is of the whole
file system, so anything else written there during the pull counts against
it too: the watch can stop a pull early, and lets one past its allowance by
what the engine writes between two readings, at most (62 MB against 50 MB
in tests/registry/test_registry_pull_bounds.py).
With the vfs storage driver every layer is a full copy of the ones below it,
so a many-layered image costs (and is charged) far more than its size.
An engine reached through TCP or SSH, or a root directory this process cannot
see, is not watched (``engine_storage`` answers ``None``); the size check
after the pull still applies.
"""

from __future__ import annotations

import enum
import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import docker.errors
import requests

POLL_S = 0.2
LOCAL_ENGINE_URL = "http+docker://localhost"  # docker-py's base URL for an engine on a Unix socket


@dataclass
class StorageGrowth:
    """How much the file system holding ``root`` grew since this object was made."""

    root: str
    baseline: int = 0

    def __post_init__(self) -> None:
        self.baseline = self.used()

    def used(self) -> int:
        return shutil.disk_usage(self.root).used

    def grown(self) -> int:
        return self.used() - self.baseline


def engine_storage(client: Any) -> StorageGrowth | None:
    """The growth of the file system of the engine's root directory, or ``None`` where it cannot be read."""
    if getattr(client.api, "base_url", "") != LOCAL_ENGINE_URL:
        return None
    try:
        return StorageGrowth(str(client.info()["DockerRootDir"]))
    except (KeyError, OSError, docker.errors.DockerException, requests.RequestException):
        return None


def stream_events(response: Any) -> Iterator[dict[str, Any]]:
    """The engine's progress messages, one JSON object a line, as they arrive."""
    for line in response.iter_lines(chunk_size=None):
        try:
            event = json.loads(line) if line.strip() else None
        except ValueError:
            continue
        if isinstance(event, dict):
            yield event


def reading_stopper(response: Any) -> Callable[[], None]:
    """Wakes the thread reading ``response``: urllib3 shuts the socket down for reading."""

    def stop() -> None:
        try:
            response.raw.shutdown()
        except (OSError, RuntimeError, ValueError):  # already read to the end and released, or closed
            pass

    return stop


class Verdict(enum.Enum):
    OVERTIME = "overtime"
    GREW_TOO_MUCH = "grew too much"


@dataclass
class PullWatch:
    """Stops a pull (``stop``) past ``deadline`` (monotonic) or once the storage grew by more than ``allowance``.

    Use as a context manager around the reading of the pull's stream; afterwards
    ``verdict`` says why it was stopped (``None``: it was not) and ``grown`` is
    the largest growth seen.
    """

    stop: Callable[[], None]
    deadline: float
    storage: StorageGrowth | None
    allowance: int
    verdict: Verdict | None = None
    grown: int = 0

    def __post_init__(self) -> None:
        self._finished = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pull-watch", daemon=True)

    def __enter__(self) -> PullWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._finished.set()
        self._thread.join()

    def check(self) -> Verdict | None:
        if self.storage is not None:
            try:
                self.grown = max(self.grown, self.storage.grown())
            except OSError:  # the root directory went away: the check after the pull remains
                self.storage = None
            if self.grown > self.allowance:
                return Verdict.GREW_TOO_MUCH
        if time.monotonic() >= self.deadline:
            return Verdict.OVERTIME
        return None

    def settle(self, limit_s: float = 10.0) -> None:
        """Wait (at most ``limit_s``) until the storage stops growing: the engine is done cancelling."""
        if self.storage is None:
            return
        until = time.monotonic() + limit_s
        before = self.storage.used()
        while time.monotonic() < until:
            time.sleep(POLL_S)
            now = self.storage.used()
            if now <= before:
                return
            before = now

    def _run(self) -> None:
        while not self._finished.wait(POLL_S):
            verdict = self.check()
            if verdict is not None:
                self.verdict = verdict
                self.stop()
                return
