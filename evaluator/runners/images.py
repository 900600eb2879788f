"""Pull pinned submission images (``host/repo@sha256:...``) and keep them in an LRU cache on disk.

Before pulling, the image's manifest is read from its registry: a digest
that no longer exists, or an image over ``max_image_mb`` (compressed layers
plus config, as the registry lists them), fails at once with the reason.
The pull streams the engine's progress to ``log`` and gives up after
``timeout_s``. Every image pulled here is recorded in a small JSON file
(``cache_file``: pinned reference -> image id, size, last use); after each
pull the least recently used of them are removed until the recorded images
fit ``cache_gb``, skipping any image a container still uses and the image
just pulled. Images this module did not pull (base images, a user's own
builds) are never recorded, so never removed.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker.errors

from evaluator.registry_client import (
    Credentials,
    ImageReference,
    ManifestUnknown,
    RegistryClient,
    RegistryError,
    parse_reference,
)
from evaluator.runners.base import GIGABYTE, ImageUnavailable

DEFAULT_MAX_IMAGE_MB = 20 * 1024
DEFAULT_PULL_TIMEOUT_S = 1800.0
DEFAULT_CACHE_GB = 50.0
PROGRESS_LINES = 200
PullLog = Callable[[str], None]


@dataclass(frozen=True)
class PullSettings:
    """How a worker pulls: the registry client (with its credentials), the caps, the cache."""

    registry: RegistryClient
    cache_file: Path
    credentials: Callable[[str], Credentials | None]
    max_image_mb: float = DEFAULT_MAX_IMAGE_MB
    timeout_s: float = DEFAULT_PULL_TIMEOUT_S
    cache_gb: float = DEFAULT_CACHE_GB
    log: PullLog | None = None  # gets the pull's progress so far (the last lines), e.g. for the job log


def is_pinned(reference: str) -> bool:
    return "@sha256:" in reference


def ensure_image(client: Any, reference: str, settings: PullSettings) -> Any:
    """The engine's image for a pinned reference, pulled first when the engine lacks it."""
    cache = ImageCache(settings.cache_file)
    try:
        image = client.images.get(reference)
    except docker.errors.ImageNotFound:
        image = None
    if image is not None:
        cache.touch(reference)
        return image
    parsed = _parsed(reference)
    size_bytes = checked_size(parsed, settings)
    with cache.locked():
        pull(client, parsed, settings)
        image = client.images.get(reference)
        cache.record(reference, str(image.id), int(image.attrs.get("Size") or size_bytes))
        evict(client, cache, int(settings.cache_gb * GIGABYTE), keep=reference)
    return image


def _parsed(reference: str) -> ImageReference:
    try:
        parsed = parse_reference(reference)
    except RegistryError as exc:
        raise ImageUnavailable(str(exc)) from None
    if parsed.digest is None:
        raise ImageUnavailable(f"{reference}: only references pinned to a digest (@sha256:...) are pulled")
    return parsed


def checked_size(reference: ImageReference, settings: PullSettings) -> int:
    """The image's size in its registry; raises when it is gone or over the cap."""
    try:
        resolved = settings.registry.resolve(reference)
    except ManifestUnknown as exc:
        raise ImageUnavailable(f"{exc}; push the image again and resubmit") from None
    except RegistryError as exc:
        raise ImageUnavailable(str(exc)) from None
    problem = resolved.size_problem(reference, settings.max_image_mb)
    if problem:
        raise ImageUnavailable(problem)
    return resolved.size_bytes


def pull(client: Any, reference: ImageReference, settings: PullSettings) -> None:
    """``docker pull`` through the engine API, progress to the log, bounded in time."""
    credentials = settings.credentials(reference.host)
    # An explicit (possibly empty) auth config: the SDK would otherwise send the worker's own docker logins.
    auth = credentials.auth_config() if credentials else {}
    deadline = time.monotonic() + settings.timeout_s
    progress = PullProgress(settings.log)
    progress.line(f"pulling {reference}")
    try:
        stream = client.api.pull(reference.name, tag=reference.digest, stream=True, decode=True, auth_config=auth)
        for event in stream:
            if "error" in event:
                raise ImageUnavailable(f"pulling {reference} failed: {event['error']}")
            progress.event(event)
            if time.monotonic() > deadline:
                _close(stream)
                raise ImageUnavailable(
                    f"pulling {reference} took longer than the limit of {settings.timeout_s:g} s and was stopped"
                )
    except docker.errors.APIError as exc:
        raise ImageUnavailable(f"pulling {reference} failed: {exc.explanation or exc}") from None
    except docker.errors.DockerException as exc:
        raise ImageUnavailable(f"pulling {reference} failed: {exc}") from None
    progress.line(f"pulled {reference}")


def _close(stream: Any) -> None:
    close = getattr(stream, "close", None)
    if close is not None:
        close()


class PullProgress:
    """A line whenever a layer changes state (not every byte count), plus the engine's summary lines.

    ``log`` gets the last ``PROGRESS_LINES`` lines so far, as one text, after each new line.
    """

    def __init__(self, log: PullLog | None) -> None:
        self.log = log
        self.states: dict[str, str] = {}
        self.lines: deque[str] = deque(maxlen=PROGRESS_LINES)

    def line(self, text: str) -> None:
        self.lines.append(text)
        if self.log is not None:
            self.log("\n".join(self.lines) + "\n")

    def event(self, event: dict[str, Any]) -> None:
        status = str(event.get("status", ""))
        layer = str(event.get("id", ""))
        if not status:
            return
        if not layer or layer.startswith("sha256:") or ":" in layer:
            self.line(status)
        elif self.states.get(layer) != status:
            self.states[layer] = status
            self.line(f"{layer}: {status}")


class ImageCache:
    """The JSON record of pulled images: pinned reference -> {image_id, size_bytes, last_used}."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def load(self) -> dict[str, dict[str, Any]]:
        try:
            document = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return {str(key): value for key, value in document.items() if isinstance(value, dict)} \
            if isinstance(document, dict) else {}

    def save(self, entries: dict[str, dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f"{self.path.name}.{os.getpid()}.partial")
        partial.write_text(json.dumps(entries, indent=1, sort_keys=True))
        partial.replace(self.path)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """One pull-and-evict at a time per host (workers share the engine and the record)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def touch(self, reference: str) -> None:
        with self.locked():
            entries = self.load()
            if reference in entries:
                entries[reference]["last_used"] = time.time()
                self.save(entries)

    def record(self, reference: str, image_id: str, size_bytes: int) -> None:
        entries = self.load()
        entries[reference] = {"image_id": image_id, "size_bytes": size_bytes, "last_used": time.time()}
        self.save(entries)


def evict(client: Any, cache: ImageCache, budget_bytes: int, keep: str) -> list[str]:
    """Remove least recently used pulled images until the rest fit the budget; returns what went."""
    entries = cache.load()
    present = {ref: entry for ref, entry in entries.items() if _exists(client, ref)}
    total = sum(int(entry.get("size_bytes", 0)) for entry in present.values())
    removed: list[str] = []
    for reference, entry in sorted(present.items(), key=lambda item: float(item[1].get("last_used", 0))):
        if total <= budget_bytes:
            break
        if reference == keep or _in_use(client, str(entry.get("image_id", ""))):
            continue
        try:
            client.images.remove(reference)  # the reference only: other names of the image stay
        except docker.errors.APIError:
            continue
        total -= int(entry.get("size_bytes", 0))
        removed.append(reference)
    cache.save({ref: entry for ref, entry in present.items() if ref not in removed})
    return removed


def _exists(client: Any, reference: str) -> bool:
    try:
        client.images.get(reference)
    except docker.errors.ImageNotFound:
        return False
    return True


def _in_use(client: Any, image_id: str) -> bool:
    if not image_id:
        return True
    return bool(client.containers.list(all=True, filters={"ancestor": image_id}))
