"""Run an untrusted submission image in a locked-down Docker container.

Sandbox (DESIGN.md §3): no network, read-only root file system, small tmpfs
``/tmp``, every capability dropped, no-new-privileges, user 65534:65534,
memory (no swap), CPU and pids limits, GPUs only when the limits ask for them
and the host has them. ``/input`` is a read-only bind mount.

``/output`` is a bind mount of ``output_dir``. Docker tmpfs mounts vanish when
the container stops, so they cannot carry the results out; instead the size
of ``output_dir`` is watched while the container runs (it is killed as soon
as it passes the cap) and the folder is checked again after exit: only plain
files and folders, no links, under the cap. The container is always removed.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import docker
import docker.errors
import docker.types

from evaluator.runners.base import (
    HEARTBEAT_INTERVAL_S,
    MEGABYTE,
    EngineUnavailable,
    Heartbeat,
    ImageUnavailable,
    LogTail,
    Pacer,
    RunLimits,
    Runner,
    RunnerError,
    RunResult,
    empty_folder,
    inspect_output,
    output_too_large,
    prepare_output_folder,
    register_runner,
    too_large_reason,
)

CONTAINER_LABEL = "org.toonbench.runner"
CONTAINER_USER = "65534:65534"
TMP_SIZE_MB = 64
POLL_S = 0.1
OUTPUT_CHECK_S = 0.5
STOP_GRACE_S = 2
MAX_TARBALL_MB = 20 * 1024
READABLE = 0o444
TRAVERSABLE = 0o111


@register_runner("docker")
class DockerRunner(Runner):
    """Runs ``image`` (a reference known to the engine) or the image in ``tarball`` (``docker save``).

    ``command`` overrides the image's CMD (baselines with several entry
    points); ``labels`` are added to the container (e.g. the job id). An
    image loaded from a tarball loses its names and is removed again after
    the run (``remove_loaded_image``).
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
        if not self.tarball.is_file():
            raise ImageUnavailable(f"{self.tarball}: image tarball not found")
        size_mb = self.tarball.stat().st_size / MEGABYTE
        if size_mb > self.max_tarball_mb:
            raise ImageUnavailable(
                f"{self.tarball}: image tarball is {size_mb:.0f} MB, over the limit of {self.max_tarball_mb:g} MB"
            )
        stream = UntaggedImageStream(self.tarball)
        try:
            images = self.client.images.load(iter(stream))
        except docker.errors.DockerException as exc:
            detail = stream.error or getattr(exc, "explanation", None) or exc
            raise ImageUnavailable(
                f"{self.tarball}: not a loadable image tarball (expected `docker save` output): {detail}"
            ) from None
        if len(images) != 1:
            raise ImageUnavailable(f"{self.tarball}: holds {len(images)} images; a submission must hold exactly one")
        return images[0]

    def gpus_for(self, limits: RunLimits) -> int:
        if limits.gpus <= 0:
            return 0
        if self.gpu_available is None:
            self.gpu_available = host_has_gpus()
        return limits.gpus if self.gpu_available else 0

    def container_options(self, input_dir: Path, output_dir: Path, limits: RunLimits) -> dict[str, Any]:
        """Everything ``containers.create`` gets: the sandbox in one place."""
        options: dict[str, Any] = {
            "detach": True,
            "labels": {CONTAINER_LABEL: self.kind, **self.labels},
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
            "environment": {"TOONBENCH_INPUT": "/input", "TOONBENCH_OUTPUT": "/output", "HOME": "/tmp"},
            "mem_limit": limits.memory_bytes,
            "memswap_limit": limits.memory_bytes,
            "nano_cpus": int(limits.cpus * 1e9),
            "pids_limit": limits.pids,
            # The log tail is read from the attached stream; the engine's own copy stays small.
            "log_config": docker.types.LogConfig(type="json-file", config={"max-size": "1m", "max-file": "1"}),
        }
        gpus = self.gpus_for(limits)
        if gpus > 0:
            options["device_requests"] = [docker.types.DeviceRequest(count=gpus, capabilities=[["gpu"]])]
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
    ) -> RunResult:
        input_dir = Path(input_dir).resolve()
        if not (input_dir / "manifest.json").is_file():
            raise ValueError(f"{input_dir}: not a prepared input folder (no manifest.json)")
        output_dir = prepare_output_folder(Path(output_dir)).resolve()
        _open_for_container(input_dir, output_dir)
        image_id = self.image_id()
        options = self.container_options(input_dir, output_dir, limits)
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
                return RunResult("failed", None, log.text(), time.monotonic() - started, image_id, reason)
            pacer = Pacer(heartbeat, self.heartbeat_interval_s)
            ended_by, exit_code = self._watch(container, output_dir, limits, cancel, pacer)
            duration = time.monotonic() - started
            container.reload()
            oom_killed = bool(container.attrs.get("State", {}).get("OOMKilled"))
            reader.join(timeout=5)
        finally:
            if container is not None:
                _remove(container)
            if self._image_is_ours and self.remove_loaded_image:
                self._discard_loaded_image()
        return _result(ended_by, exit_code, oom_killed, log.text(), duration, image_id, output_dir, limits)

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
        self, container: Any, output_dir: Path, limits: RunLimits, cancel: threading.Event | None, pacer: Pacer
    ) -> tuple[str | None, int | None]:
        """Wait for exit; returns (what ended it early or None, exit code)."""
        exited = threading.Event()
        outcome: dict[str, Any] = {}

        def wait() -> None:
            try:
                outcome.update(container.wait(timeout=None))
            except Exception as exc:  # the engine went away: raised as a RunnerError below
                outcome["Error"] = {"Message": str(exc)}
            exited.set()

        threading.Thread(target=wait, daemon=True).start()
        deadline = time.monotonic() + limits.timeout_s
        next_output_check = time.monotonic() + OUTPUT_CHECK_S
        ended_by: str | None = None
        while not exited.wait(POLL_S):
            pacer.tick()
            now = time.monotonic()
            if cancel is not None and cancel.is_set():
                ended_by = "cancelled"
                _quietly(container.stop, timeout=STOP_GRACE_S)
            elif now >= deadline:
                ended_by = "timed_out"
            elif now >= next_output_check:
                next_output_check = now + OUTPUT_CHECK_S
                if output_too_large(inspect_output(output_dir, limits.output_bytes), limits.output_bytes):
                    ended_by = "output_too_large"
            if ended_by is not None:
                _quietly(container.kill)
                exited.wait(30)
                break
        code = outcome.get("StatusCode")
        if code is None and ended_by is None:
            message = (outcome.get("Error") or {}).get("Message", "no exit status")
            raise RunnerError(f"lost track of container {container.short_id}: {message}")
        return ended_by, None if code is None else int(code)


def _result(
    ended_by: str | None,
    exit_code: int | None,
    oom_killed: bool,
    tail: str,
    duration: float,
    image_id: str,
    output_dir: Path,
    limits: RunLimits,
) -> RunResult:
    if ended_by == "cancelled":
        empty_folder(output_dir)
        return RunResult("cancelled", exit_code, tail, duration, image_id, "the run was cancelled")
    if ended_by == "timed_out":
        reason = f"the submission ran longer than the limit of {limits.timeout_s:g} s and was stopped"
        return RunResult("timed_out", exit_code, tail, duration, image_id, reason)
    if oom_killed:
        reason = f"the submission ran out of memory (limit {limits.memory_gb:g} GB) and was killed"
        return RunResult("out_of_memory", exit_code, tail, duration, image_id, reason)
    check = inspect_output(output_dir, limits.output_bytes)
    if ended_by == "output_too_large" or output_too_large(check, limits.output_bytes):
        empty_folder(output_dir)
        return RunResult("output_too_large", exit_code, tail, duration, image_id, too_large_reason(check, limits))
    if check.problem is not None:
        empty_folder(output_dir)
        return RunResult("failed", exit_code, tail, duration, image_id, check.problem)
    if exit_code != 0:
        reason = f"the submission exited with status {exit_code}" + (" (killed)" if exit_code == 137 else "")
        return RunResult("failed", exit_code, tail, duration, image_id, reason)
    return RunResult("finished", 0, tail, duration, image_id, "")


class UntaggedImageStream:
    """The bytes of a ``docker save`` tarball with every image name removed, streamed.

    ``docker load`` applies the names recorded in the tarball, so a submission
    could otherwise take over the name of another image in the engine (a base
    image, another submission). The names are dropped on the fly (the image is
    then known by its id only), without a second copy on disk.
    """

    CHUNK = 1 << 20
    NAME_ANNOTATIONS = ("io.containerd.image.name", "org.opencontainers.image.ref.name")

    def __init__(self, tarball: Path) -> None:
        self.tarball = tarball
        self.error: str | None = None

    def __iter__(self) -> Iterator[bytes]:
        read_end, write_end = os.pipe()
        writer = threading.Thread(target=self._rewrite, args=(write_end,), daemon=True)
        writer.start()
        with os.fdopen(read_end, "rb") as source:
            yield from iter(lambda: source.read(self.CHUNK), b"")
        writer.join()

    def _rewrite(self, write_end: int) -> None:
        try:
            with os.fdopen(write_end, "wb") as sink, tarfile.open(self.tarball, "r|*") as source, tarfile.open(
                fileobj=sink, mode="w|"
            ) as target:
                for member in source:
                    name = member.name.removeprefix("./")
                    if name == "repositories":
                        continue
                    content = source.extractfile(member) if member.isfile() else None
                    if name in ("manifest.json", "index.json") and content is not None:
                        raw = self._without_names(name, json.loads(content.read()))
                        member.size = len(raw)
                        content = io.BytesIO(raw)
                    target.addfile(member, content)
        except (OSError, tarfile.TarError, ValueError) as exc:
            self.error = f"{type(exc).__name__}: {exc}"

    def _without_names(self, name: str, document: Any) -> bytes:
        if name == "manifest.json":
            for entry in document:
                entry["RepoTags"] = None
        else:
            for entry in document.get("manifests", []):
                for key in self.NAME_ANNOTATIONS:
                    entry.get("annotations", {}).pop(key, None)
        return json.dumps(document).encode()


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


def host_has_gpus() -> bool:
    """NVIDIA devices plus the container toolkit that Docker's GPU device requests need."""
    return Path("/dev/nvidiactl").exists() and shutil.which("nvidia-container-cli") is not None


def _open_for_container(input_dir: Path, output_dir: Path) -> None:
    """The container user (65534) must read ``/input`` and write ``/output``."""
    mode = input_dir.stat().st_mode
    if mode & (READABLE | TRAVERSABLE) != READABLE | TRAVERSABLE:
        input_dir.chmod(mode | READABLE | TRAVERSABLE)
    output_dir.chmod(0o777)


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
