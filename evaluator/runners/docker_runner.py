"""Run an untrusted submission image in a locked-down Docker container.

Sandbox (DESIGN.md §3): no network, read-only root file system, small tmpfs
``/tmp``, every capability dropped, no-new-privileges, user 65534:65534,
memory (no swap), CPU and pids limits, GPUs only when the limits ask for them
and the host has them (exactly the pinned device ids, when the worker is
pinned). ``/input`` is a read-only bind mount.

``/output`` is a tmpfs of the cap's size that the worker mounts on a private
folder (``runners.capped_output``): the kernel stops every write at the cap.
The container is killed as soon as that file system is full; after exit the
output is checked (only plain files and folders, no links, bounded depth and
entries, under the cap) and copied to ``output_dir``, and the tmpfs is
unmounted. The container is always removed.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import docker
import docker.errors
import docker.types

from evaluator.runners.base import (
    HEARTBEAT_INTERVAL_S,
    LOG_INTERVAL_S,
    EndedRun,
    EngineUnavailable,
    Heartbeat,
    ImageUnavailable,
    LogListener,
    LogPacer,
    LogTail,
    Pacer,
    RunLimits,
    Runner,
    RunnerError,
    RunResult,
    inspect_output,
    judge_run,
    prepare_output_folder,
    register_runner,
    watch_run,
)
from evaluator.status import RunOutcome
from evaluator.runners.capped_output import capped_output, copy_plain_tree, output_usage
from evaluator.runners.host import HostResources, engine_host, host_has_gpu_toolkit
from evaluator.runners.images import PullSettings, ensure_image, is_pinned
from evaluator.runners.image_tarball import (
    MAX_IMAGE_MB,
    MAX_IMAGE_RATIO,
    MAX_TARBALL_MB,
    TarballCaps,
    load_image_tarball,
)

CONTAINER_LABEL = "org.toonbench.runner"
# Which worker process started a container: "<host>:<pid>" (several workers may share one engine).
WORKER_LABEL = "org.toonbench.worker"
CONTAINER_USER = "65534:65534"
TMP_SIZE_MB = 64
STOP_GRACE_S = 2
READABLE = 0o444
TRAVERSABLE = 0o111


@register_runner("docker")
class DockerRunner(Runner):
    """Runs ``image`` (a reference known to the engine) or the image in ``tarball`` (``docker save``).

    ``command`` overrides the image's CMD (baselines with several entry
    points); ``labels`` are added to the container (e.g. the job id). An
    image loaded from a tarball loses its names and is removed again after
    the run (``remove_loaded_image``).

    ``gpu_ids`` pins the worker to those GPU device ids (``TOONBENCH_GPUS``);
    ``host`` overrides what the engine's host is taken to have (tests, or an
    operator who reserves part of a machine). A tarball may unpack to at
    most ``max_image_mb`` and ``max_image_ratio`` times its own size.
    """

    def __init__(
        self,
        image: str | None = None,
        tarball: Path | None = None,
        client: Any = None,
        gpu_available: bool | None = None,
        *,
        command: Sequence[str] | None = None,
        labels: Mapping[str, str] | None = None,
        max_tarball_mb: float = MAX_TARBALL_MB,
        remove_loaded_image: bool = True,
        heartbeat_interval_s: float = HEARTBEAT_INTERVAL_S,
        gpu_ids: Sequence[str] = (),
        host: HostResources | None = None,
        max_image_mb: float = MAX_IMAGE_MB,
        max_image_ratio: float = MAX_IMAGE_RATIO,
        log_interval_s: float = LOG_INTERVAL_S,
        pull: PullSettings | None = None,
    ) -> None:
        if (image is None) == (tarball is None):
            raise ValueError("DockerRunner needs exactly one of image= (a reference) or tarball= (a docker save file)")
        self.image_ref = image
        self.tarball = Path(tarball) if tarball is not None else None
        self._client = client
        self.gpu_available = gpu_available
        self.command = list(command) if command is not None else None
        self.labels = dict(labels or {})
        self.max_tarball_mb = max_tarball_mb
        self.remove_loaded_image = remove_loaded_image
        self.heartbeat_interval_s = heartbeat_interval_s
        self.gpu_ids = tuple(str(device) for device in gpu_ids)
        self._host = host
        self.max_image_mb = max_image_mb
        self.max_image_ratio = max_image_ratio
        self.log_interval_s = log_interval_s
        self.pull = pull
        self._image_id: str | None = None
        self._image_is_ours = False

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = connect()
        return self._client

    def image_id(self) -> str:
        """The image's content id (``sha256:...``), loading the tarball on first use."""
        if self._image_id is None:
            image = self._load_tarball() if self.tarball is not None else self._find_image()
            self._image_id = str(image.id)
            # Loaded names are dropped, so a named image was in the engine already: not ours to remove.
            self._image_is_ours = self.tarball is not None and not image.tags
        return self._image_id

    def _find_image(self) -> Any:
        """The image in the engine; a pinned reference (``repo@sha256:...``) is pulled when missing."""
        assert self.image_ref is not None
        if self.pull is not None and is_pinned(self.image_ref):
            return ensure_image(self.client, self.image_ref, self.pull)
        try:
            return self.client.images.get(self.image_ref)
        except docker.errors.ImageNotFound:
            raise ImageUnavailable(
                f"image {self.image_ref!r} is not in the Docker engine; build it or load it (docker load) first"
            ) from None
        except docker.errors.APIError as exc:
            raise ImageUnavailable(f"image {self.image_ref!r}: {exc.explanation or exc}") from None

    def _load_tarball(self) -> Any:
        assert self.tarball is not None
        caps = TarballCaps(self.max_tarball_mb, self.max_image_mb, self.max_image_ratio)
        return load_image_tarball(self.client, self.tarball, caps)

    def host_resources(self) -> HostResources:
        """The engine's host: CPUs and memory from ``docker info``, GPUs this worker may hand out."""
        if self._host is None:
            try:
                info = self.client.info()
            except docker.errors.DockerException as exc:
                raise EngineUnavailable(f"the Docker engine does not answer ({exc})") from None
            self._host = engine_host(info, self.gpu_ids)
        return self._host

    def gpus_for(self, limits: RunLimits) -> int:
        """GPUs to request: the limits' count when the host has GPUs (``gpu_available`` overrides the probe)."""
        if limits.gpus <= 0:
            return 0
        if self.gpu_available is None:
            self.gpu_available = bool(self._host.gpus) if self._host is not None else host_has_gpu_toolkit()
        return limits.gpus if self.gpu_available else 0

    def device_requests(self, limits: RunLimits) -> list[Any]:
        """Docker device requests: exactly the pinned device ids, else a count; never more than the limits."""
        gpus = self.gpus_for(limits)
        if gpus <= 0:
            return []
        pinned = limits.gpu_ids or self.gpu_ids
        if pinned:
            return [docker.types.DeviceRequest(device_ids=list(pinned[:gpus]), capabilities=[["gpu"]])]
        return [docker.types.DeviceRequest(count=gpus, capabilities=[["gpu"]])]

    def container_options(self, input_dir: Path, output_dir: Path, limits: RunLimits) -> dict[str, Any]:
        """Everything ``containers.create`` gets: the sandbox in one place."""
        requests = self.device_requests(limits)
        options: dict[str, Any] = {
            "detach": True,
            "labels": {CONTAINER_LABEL: self.kind, WORKER_LABEL: worker_name(), **self.labels},
            "network_mode": "none",
            "read_only": True,
            "user": CONTAINER_USER,
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges"],
            "ipc_mode": "private",
            "tmpfs": {"/tmp": f"rw,nosuid,nodev,noexec,size={TMP_SIZE_MB}m,mode=1777"},
            "volumes": {
                str(input_dir): {"bind": "/input", "mode": "ro"},
                str(output_dir): {"bind": "/output", "mode": "rw"},
            },
            # TOONBENCH_DEVICE says which device the container was given (``cuda`` with a GPU request).
            "environment": {"TOONBENCH_INPUT": "/input", "TOONBENCH_OUTPUT": "/output", "HOME": "/tmp",
                            "TOONBENCH_DEVICE": "cuda" if requests else "cpu"},
            "mem_limit": limits.memory_bytes,
            "memswap_limit": limits.memory_bytes,
            "nano_cpus": int(limits.cpus * 1e9),
            "pids_limit": limits.pids,
            # The log tail is read from the attached stream; the engine's own copy stays small.
            "log_config": docker.types.LogConfig(type="json-file", config={"max-size": "1m", "max-file": "1"}),
        }
        if requests:
            options["device_requests"] = requests
        if self.command is not None:
            options["command"] = self.command
        return options

    def run(
        self,
        input_dir: Path,
        output_dir: Path,
        limits: RunLimits,
        *,
        cancel: threading.Event | None = None,
        heartbeat: Heartbeat | None = None,
        on_log: LogListener | None = None,
    ) -> RunResult:
        input_dir = Path(input_dir).resolve()
        if not (input_dir / "manifest.json").is_file():
            raise ValueError(f"{input_dir}: not a prepared input folder (no manifest.json)")
        output_dir = prepare_output_folder(Path(output_dir)).resolve()
        _open_for_container(input_dir)
        # Mounted before a tarball is loaded, so a worker that cannot mount leaves no loaded image behind.
        with capped_output(output_dir.parent, limits) as staging:
            image_id = self.image_id()
            options = self.container_options(input_dir, staging, limits)
            ended = self._run_container(image_id, options, staging, limits, cancel, heartbeat, on_log)
            if isinstance(ended, RunResult):
                return ended
            usage = output_usage(staging)
            run = judge_run(ended, staging, limits, output_full=usage.full, written_bytes=usage.used_bytes)
            if run.status not in (RunOutcome.CANCELLED, RunOutcome.OUTPUT_TOO_LARGE):
                if inspect_output(staging, limits.output_bytes).problem is None:
                    copy_plain_tree(staging, output_dir)
        return run

    def _run_container(
        self,
        image_id: str,
        options: dict[str, Any],
        staging: Path,
        limits: RunLimits,
        cancel: threading.Event | None,
        heartbeat: Heartbeat | None,
        on_log: LogListener | None,
    ) -> EndedRun | RunResult:
        """Create, start and watch the container, always removing it.

        Returns how it ended, or the failed result of a container that could not start.
        """
        log = LogTail(limits.log_tail_bytes)
        container = None
        try:
            container = self._create(image_id, options)
            stream = container.attach(stdout=True, stderr=True, stream=True, logs=False)
            reader = threading.Thread(target=_copy_stream, args=(stream, log), daemon=True)
            reader.start()
            started = time.monotonic()
            try:
                container.start()
            except docker.errors.APIError as exc:  # e.g. the image's command does not exist
                reason = f"the container could not start: {exc.explanation or exc}"
                return RunResult(RunOutcome.FAILED, None, log.text(), time.monotonic() - started, image_id, reason)
            pacers = (Pacer(heartbeat, self.heartbeat_interval_s), LogPacer(on_log, log, self.log_interval_s))
            ended_by, exit_code = self._watch(container, staging, limits, cancel, pacers)
            duration = time.monotonic() - started
            container.reload()
            oom_killed = bool(container.attrs.get("State", {}).get("OOMKilled"))
            reader.join(timeout=5)
        finally:
            if container is not None:
                _remove(container)
            if self._image_is_ours and self.remove_loaded_image:
                self._discard_loaded_image()
        return EndedRun(ended_by, exit_code, oom_killed, log.text(), duration, image_id)

    def _discard_loaded_image(self) -> None:
        """Free the engine's disk from a loaded submission (kept while another container uses it)."""
        image_id, self._image_id, self._image_is_ours = self._image_id, None, False
        try:
            self.client.images.remove(image_id)
        except docker.errors.APIError:  # named elsewhere or still in use
            pass

    def _create(self, image_id: str, options: dict[str, Any]) -> Any:
        try:
            return self.client.containers.create(image_id, **options)
        except docker.errors.APIError as exc:
            detail = exc.explanation or exc
            raise RunnerError(f"the engine refused to create the container for {image_id}: {detail}") from None

    def _watch(
        self,
        container: Any,
        staging: Path,
        limits: RunLimits,
        cancel: threading.Event | None,
        pacers: tuple[Pacer, LogPacer],
    ) -> tuple[RunOutcome | None, int | None]:
        """Wait for exit (``watch_run``); returns (what ended it early or None, exit code).

        A full ``/output`` file system ends the run at once: its writer hit the
        cap (a file deleted while open counts, though no folder walk sees it).
        """
        exited = threading.Event()
        outcome: dict[str, Any] = {}

        def wait() -> None:
            try:
                outcome.update(container.wait(timeout=None))
            except Exception as exc:  # the engine went away: raised as a RunnerError below
                outcome["Error"] = {"Message": str(exc)}
            exited.set()

        threading.Thread(target=wait, daemon=True).start()
        ended_by = watch_run(exited.wait, limits, cancel, pacers, lambda: output_usage(staging).full)
        if ended_by is not None:
            if ended_by == RunOutcome.CANCELLED:
                _quietly(container.stop, timeout=STOP_GRACE_S)
            _quietly(container.kill)
            exited.wait(30)
        code = outcome.get("StatusCode")
        if code is None and ended_by is None:
            message = (outcome.get("Error") or {}).get("Message", "no exit status")
            raise RunnerError(f"lost track of container {container.short_id}: {message}")
        return ended_by, None if code is None else int(code)


def connect(timeout_s: int = 60) -> Any:
    """A client for the engine named by DOCKER_HOST (or the default socket), checked with a ping."""
    try:
        client = docker.from_env(timeout=timeout_s)
        client.ping()
    except docker.errors.DockerException as exc:
        raise EngineUnavailable(
            f"the Docker engine does not answer ({exc}); start it (as root: scripts/services/docker.sh) "
            "or point DOCKER_HOST at a running engine"
        ) from None
    return client


def worker_name() -> str:
    """This worker process, as the containers it starts are labelled."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _open_for_container(input_dir: Path) -> None:
    """The container user (65534) must read ``/input`` (``/output`` is a tmpfs of mode 0777)."""
    mode = input_dir.stat().st_mode
    if mode & (READABLE | TRAVERSABLE) != READABLE | TRAVERSABLE:
        input_dir.chmod(mode | READABLE | TRAVERSABLE)


def _copy_stream(stream: Any, log: LogTail) -> None:
    try:
        for chunk in stream:
            log.write(chunk)
    except Exception:  # the stream ends with an error when the container is removed mid-read
        pass


def _quietly(action: Any, **kwargs: Any) -> None:
    try:
        action(**kwargs)
    except docker.errors.APIError:  # already stopped or gone
        pass


def _remove(container: Any) -> None:
    try:
        container.remove(force=True, v=True)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as exc:
        if exc.status_code != 409:  # 409: its removal is already under way
            raise
