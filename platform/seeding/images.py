"""Baseline images pushed to the platform registry, so baselines take the path participants' models take.

The images are built by ``baselines.images`` (content-keyed, reused while
nothing changed) and pushed under the baseline owner's namespace,
``<registry>/toonbench/<baseline>:<content key>``, with a push token the site
signs itself (the owner cannot sign in). The submission then pins that
reference to its digest like any image submission.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests
from django.conf import settings

from accounts.reserved import BASELINE_OWNER
from baselines.images import ensure_baseline_image, ensure_runtime_image
from baselines.registry import Baseline, all_baselines
from registry.policy import plain_http
from registry.tokens import Scope, SigningKeyMissing, access_entry, mint

Log = Callable[[str], None]
PUSH_TOKEN_TTL_S = 3600


class PublishFailed(RuntimeError):
    """The image could not be built or pushed; the message says why in one line."""


@dataclass
class ImagePublisher:
    """Builds and pushes baseline images with one engine; the runtime image is made once per publisher."""

    client: Any
    log: Log = print
    _runtime: str = field(default="", init=False)
    _runtime_failure: str = field(default="", init=False)

    def prepare(self) -> None:
        """Find or build the runtime image every baseline image starts from (minutes on a cold engine)."""
        try:
            self._runtime = ensure_runtime_image(self.client, self.log)
        except (RuntimeError, docker.errors.DockerException) as error:
            self._runtime_failure = f"runtime image build failed: {error}"

    def publish(self, baseline: Baseline, checkpoint: Path | None) -> str:
        """The baseline's image in the platform registry (built and pushed when missing there); returns its reference."""
        if not self._runtime and not self._runtime_failure:
            self.prepare()
        if self._runtime_failure:
            raise PublishFailed(self._runtime_failure)
        try:
            local = ensure_baseline_image(self.client, baseline, checkpoint, self._runtime, self.log)
        except (RuntimeError, docker.errors.DockerException) as error:
            raise PublishFailed(f"image build failed: {error}") from None
        repository = f"{settings.TOONBENCH_REGISTRY_ADDR}/{BASELINE_OWNER}/{baseline.name}"
        tag = local.rsplit(":", 1)[1]
        self.client.images.get(local).tag(repository, tag)
        self.log(f"pushing {repository}:{tag}")
        try:
            error = push_image(self.client, repository, tag, push_token(f"{BASELINE_OWNER}/{baseline.name}"))
        except docker.errors.DockerException as failure:
            error = str(failure)
        if error:
            raise PublishFailed(f"push to {repository} failed: {error}")
        return f"{repository}:{tag}"


class PublishQueue:
    """Baseline images built and pushed in order on one background thread while the caller trains the next baseline.

    The caller opens the queue when the first baseline turns out to be
    missing, before training it: the runtime image starts building then, so
    on a cold engine its minutes overlap the first trainings instead of
    preceding them, and a run with every baseline present builds nothing.
    The thread only talks to the engine and the registry; the caller stores
    the submissions (the database stays on its own thread).
    """

    def __init__(self, publisher: ImagePublisher) -> None:
        self._publisher = publisher
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="baseline-images")
        self._pending: deque[tuple[Baseline, Future[str]]] = deque()
        self._opened = False

    def open(self) -> None:
        """Start preparing the runtime image (once)."""
        if not self._opened:
            self._opened = True
            self._pool.submit(self._publisher.prepare)

    def put(self, baseline: Baseline, checkpoint: Path | None) -> None:
        self.open()
        self._pending.append((baseline, self._pool.submit(self._publisher.publish, baseline, checkpoint)))

    def finished(self, wait: bool = False) -> Iterator[tuple[Baseline, Future[str]]]:
        """The queued baselines whose publishing ended (pushed or failed), in queue order; with ``wait``, all of them."""
        while self._pending and (wait or self._pending[0][1].done()):
            yield self._pending.popleft()

    def close(self) -> None:
        """Stop taking work; what is queued but not started is dropped (a later run publishes it)."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def push_token(repository: str) -> str:
    """A token to push ``repository`` of the baseline owner's namespace and pull the other baselines' repositories.

    The engine cannot renew a token it was handed, so it lasts the first push
    (the runtime layers: minutes); pulling the others lets the engine mount
    their shared layers instead of uploading them again.
    """
    others = [Scope("repository", f"{BASELINE_OWNER}/{b.name}", ("pull",)) for b in all_baselines()]
    target = Scope("repository", repository, ("pull", "push"))
    return mint(BASELINE_OWNER, [access_entry(s, s.actions) for s in [target, *others]], ttl_s=PUSH_TOKEN_TTL_S)


def push_image(client: Any, repository: str, tag: str, token: str) -> str:
    """Push through the engine with a bearer token; returns the engine's first error line, or ''."""
    events = client.api.push(repository, tag=tag, stream=True, decode=True, auth_config={"registrytoken": token})
    return next((str(event["error"]).strip() for event in events if event.get("error")), "")


def image_publisher(log: Log = print) -> tuple[ImagePublisher | None, str]:
    """A publisher when baselines can run as images here, else None and the reason (one line)."""
    if settings.TOONBENCH_RUNNER != "docker":
        return None, f"the worker runs submissions with TOONBENCH_RUNNER={settings.TOONBENCH_RUNNER}"
    try:
        client = docker.from_env(timeout=900)
        client.ping()
    except docker.errors.DockerException:
        return None, "no Docker engine answers here (scripts/services/docker.sh starts one)"
    address = settings.TOONBENCH_REGISTRY_ADDR
    try:
        requests.get(f"{'http' if plain_http(address) else 'https'}://{address}/v2/", timeout=5)
    except requests.RequestException:
        return None, f"the platform registry at {address} does not answer (scripts/services/registry.sh starts it)"
    try:
        push_token(f"{BASELINE_OWNER}/probe")
    except SigningKeyMissing as error:
        return None, str(error)
    return ImagePublisher(client, log), ""
