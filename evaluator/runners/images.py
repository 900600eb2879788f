"""Pull pinned submission images (``host/repo@sha256:...``) and keep them in an LRU cache on disk.

Before pulling, the image's manifest is read from its registry: a digest
that no longer exists, or an image whose compressed layers and config (as the
registry lists them) already exceed ``max_image_mb``, fails at once with the
reason. The cap is then enforced where it is spent, on the worker's disk:
while the engine pulls, ``pull_watch`` reads how much the file system of the
engine's storage grows, and a pull that grows it by more than ``max_image_mb``
plus the download itself (a small gzip layer may inflate to hundreds of GB) is
stopped, whatever the engine had made of it is removed, and the submission
fails with one sentence naming the limit. After a pull that finished, the
image's own size in the engine is checked against the same cap (an image
that slipped under the watch, or one pulled from an engine the watch cannot
see, is removed and refused). ``timeout_s`` bounds the whole pull, whether or
not the engine reports anything: the same watch shuts the pull's socket at
the deadline. The pull's progress goes to ``log``.

Locks (``flock``, shared by the workers of one host): a pull holds a lock file
of its own reference (``<cache_file>.pulls/<sha256 of the reference>.lock``),
so two workers that need the same image pull it once, and pulls of different
images run side by side. The record's lock (``<cache_file>.lock``) is held
only to read or write the record and to evict, never across a pull: a cache
hit never waits for another image's pull. Lock files are never deleted
(deleting a lock file someone waits on would let two holders in); they are
empty files, one per reference ever pulled.

Every image pulled here is recorded in a small JSON file (``cache_file``:
pinned reference -> image id, size, last use); after each pull the least
recently used of them are removed until the recorded images fit
``cache_gb``, skipping any image a container still uses and the image just
pulled. Images this module did not pull (base images, a user's own builds)
are never recorded, so never removed.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker.auth
import docker.errors
import requests
import urllib3.exceptions

from evaluator.registry_client import (
    Credentials,
    ImageReference,
    ManifestUnknown,
    RegistryClient,
    RegistryError,
    parse_reference,
)
from evaluator.runners.base import GIGABYTE, MEGABYTE, ImageUnavailable
from evaluator.runners.pull_watch import PullWatch, Verdict, engine_storage, reading_stopper, stream_events

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
    image = _local_image(client, reference)
    if image is not None:
        cache.touch(reference)
        return image
    parsed = _parsed(reference)
    with cache.pulling(reference):
        image = _local_image(client, reference)  # another worker pulled it while this one waited
        if image is not None:
            cache.touch(reference)
            return image
        image = _pulled(client, parsed, settings)
        with cache.locked():
            cache.record(reference, str(image.id), int(image.attrs.get("Size") or 0))
            evict(client, cache, int(settings.cache_gb * GIGABYTE), keep=reference)
    return image


def _pulled(client: Any, reference: ImageReference, settings: PullSettings) -> Any:
    """Check the declared size, pull, then check the size the image takes in the engine."""
    pull(client, reference, settings, declared_bytes=checked_size(reference, settings))
    image = client.images.get(str(reference))
    size_bytes = int(image.attrs.get("Size") or 0)
    if size_bytes > settings.max_image_mb * MEGABYTE:
        _discard(client, str(reference))
        raise ImageUnavailable(
            f"{reference}: the image is {size_bytes / MEGABYTE:.0f} MB once pulled, over the limit of "
            f"{settings.max_image_mb:g} MB, and was removed"
        )
    return image


def _local_image(client: Any, reference: str) -> Any:
    try:
        return client.images.get(reference)
    except docker.errors.ImageNotFound:
        return None


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


def pull(client: Any, reference: ImageReference, settings: PullSettings, declared_bytes: int = 0) -> None:
    """``docker pull`` through the engine API, progress to the log, bounded in time and in disk.

    The engine's storage may grow by ``max_image_mb`` (the extracted image) plus
    ``declared_bytes`` (the compressed layers, kept on disk while they are extracted).
    """
    deadline = time.monotonic() + settings.timeout_s
    progress = PullProgress(settings.log)
    progress.line(f"pulling {reference}")
    storage = engine_storage(client)  # its baseline, before the engine writes anything
    response = _start_pull(client, reference, settings, deadline)
    watch = PullWatch(reading_stopper(response), deadline, storage,
                      allowance=int(settings.max_image_mb * MEGABYTE) + declared_bytes)
    broke_off = ""
    try:
        with watch:
            for event in stream_events(response):
                if "error" in event:
                    raise ImageUnavailable(f"pulling {reference} failed: {event['error']}")
                progress.event(event)
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        broke_off = str(exc) or type(exc).__name__
    finally:
        response.close()
    verdict = watch.verdict or (Verdict.OVERTIME if time.monotonic() >= deadline else None)
    if verdict is not None:
        watch.settle()
        _discard(client, str(reference))
        reason = _stopped_reason(reference, settings, verdict, watch.grown)
        progress.line(reason)
        raise ImageUnavailable(reason)
    if broke_off:
        raise ImageUnavailable(f"pulling {reference} failed: the engine's answer broke off ({broke_off})")
    progress.line(f"pulled {reference}")


def _start_pull(client: Any, reference: ImageReference, settings: PullSettings, deadline: float) -> Any:
    """``POST /images/create`` with its answer streamed; the engine answers nothing until the registry does."""
    credentials = settings.credentials(reference.host)
    # An explicit (possibly empty) auth config: the engine would otherwise get the worker's own docker logins.
    auth = credentials.auth_config() if credentials else {}
    url = f"{client.api.base_url}/v{client.api.api_version}/images/create"
    try:
        response = client.api.post(
            url,
            params={"fromImage": reference.name, "tag": reference.digest},
            headers={"X-Registry-Auth": docker.auth.encode_header(auth)},
            stream=True,
            timeout=max(deadline - time.monotonic(), 0.001),  # until the first byte; the watch takes over then
        )
    except requests.Timeout:
        raise ImageUnavailable(_stopped_reason(reference, settings, Verdict.OVERTIME, 0)) from None
    except requests.RequestException as exc:
        raise ImageUnavailable(f"pulling {reference} failed: the Docker engine did not answer ({exc})") from None
    if response.status_code >= 400:
        message = _engine_message(response)
        response.close()
        raise ImageUnavailable(f"pulling {reference} failed: {message}")
    return response


def _engine_message(response: Any) -> str:
    try:
        return str(response.json().get("message") or response.reason)
    except ValueError:
        return str(response.reason)


def _stopped_reason(reference: ImageReference, settings: PullSettings, verdict: Verdict, grown: int) -> str:
    if verdict is Verdict.GREW_TOO_MUCH:
        return (
            f"{reference}: the image grew past the limit of {settings.max_image_mb:g} MB while being pulled "
            f"(the engine's storage grew by {grown / MEGABYTE:.0f} MB) and was removed"
        )
    return f"pulling {reference} took longer than the limit of {settings.timeout_s:g} s and was stopped"


def _discard(client: Any, reference: str) -> None:
    """Remove the image by this name if the engine made it (only this name: other names of it stay).

    The layers of a pull the engine did not finish are the engine's to delete, and it
    does when the pull's client goes away; an image it finished at that moment is removed here.
    """
    try:
        client.images.remove(reference)
    except docker.errors.APIError:  # not there (the usual case), or a container of someone else's uses it
        pass


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
        """The record's lock: held to read-modify-write the record and to evict, never across a pull."""
        with _flock(self.path.with_name(self.path.name + ".lock")):
            yield

    @contextmanager
    def pulling(self, reference: str) -> Iterator[None]:
        """The lock of one reference's pull: a second worker needing the same image waits for the first."""
        name = hashlib.sha256(reference.encode()).hexdigest()
        with _flock(self.path.with_name(self.path.name + ".pulls") / f"{name}.lock"):
            yield

    def touch(self, reference: str) -> None:
        with self.locked():
            entries = self.load()
            if reference in entries:
                entries[reference]["last_used"] = time.time()
                self.save(entries)

    def record(self, reference: str, image_id: str, size_bytes: int) -> None:
        """Add or refresh one entry; call it under ``locked()``."""
        entries = self.load()
        entries[reference] = {"image_id": image_id, "size_bytes": size_bytes, "last_used": time.time()}
        self.save(entries)


@contextmanager
def _flock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def evict(client: Any, cache: ImageCache, budget_bytes: int, keep: str) -> list[str]:
    """Remove least recently used pulled images until the rest fit the budget; returns what went.

    Call it under ``cache.locked()``.
    """
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
