"""The baselines' model images: one runtime image, then one thin image per baseline.

The runtime image is the project's base image (``toonbench/python-numpy:base``)
plus the wheels of ``baselines/requirements.txt``, installed from the wheels
this machine's pip finds (its configured indexes and wheel folders; no image
index is used). torch is the CUDA build, so the same image runs on a GPU host
when the worker hands it a GPU; triton (torch.compile's compiler, unused by
eager inference) is left out. The wheels are bind-mounted into a container
of the base image and installed there, then that container is committed:
nothing copies the wheelhouse into a build context or a layer.

Each baseline image is its ``baselines/<package>/Dockerfile`` built ``FROM``
the runtime image with the baselines' code and, for a learned baseline, its
checkpoint on the current protocol; all of them share the runtime's layers.

Tags are content keys: ``toonbench/runtime:<key>`` hashes the base image's id
and the requirements, ``toonbench/baseline-<name>:<key>`` the runtime image's
id, the code and the checkpoint. An image whose key exists is not rebuilt.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import docker.errors

from baselines.checkpoints import checkpoint_path
from baselines.registry import PACKAGE_ROOT, Baseline
from datasets.build import load_built

Log = Callable[[str], None]

REPO_ROOT = PACKAGE_ROOT.parent
REQUIREMENTS = PACKAGE_ROOT / "requirements.txt"
RUNTIME_REPOSITORY = "toonbench/runtime"
RUNTIME_LATEST = f"{RUNTIME_REPOSITORY}:latest"
BASELINE_REPOSITORY = "toonbench/baseline-{name}"
CONTENT_LABEL = "org.toonbench.content"
CHECKPOINT_IN_CONTEXT = "checkpoint.npz"
LEFT_OUT_WHEELS = ("triton-",)
RUNTIME_SETTINGS = [
    "ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HOME=/tmp TOONBENCH_THREADS=2",
    "WORKDIR /app",
    "USER 65534:65534",
    'CMD ["python3"]',
]
# The install step; part of the runtime key, so changing it rebuilds the image.
INSTALL = "python3 /wheels/{pip} install --no-index --no-deps --no-cache-dir --break-system-packages --root-user-action ignore /wheels/*.whl"


def base_image() -> str:
    return os.environ.get("TOONBENCH_BASE_IMAGE", "toonbench/python-numpy:base")


def content_key(parts: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def runtime_key(base_image_id: str, requirements: str) -> str:
    return content_key([base_image_id.encode(), requirements.encode(), INSTALL.encode(), "\n".join(RUNTIME_SETTINGS).encode()])


def image_with_key(client: Any, key: str) -> Any | None:
    found = client.images.list(filters={"label": f"{CONTENT_LABEL}={key}"})
    return found[0] if found else None


def ensure_runtime_image(client: Any, log: Log = print) -> str:
    """The runtime image's content-keyed tag, built first when missing; also tagged ``toonbench/runtime:latest``."""
    base = client.images.get(base_image())
    key = runtime_key(base.id, REQUIREMENTS.read_text())
    tag = f"{RUNTIME_REPOSITORY}:{key[:12]}"
    image = image_with_key(client, key)
    if image is None:
        log(f"building the runtime image {tag} from {base_image()} (first time only: a few minutes)")
        with tempfile.TemporaryDirectory(prefix="toonbench-wheels-", dir=os.environ.get("TOONBENCH_WHEELHOUSE_DIR")) as folder:
            download_wheels(Path(folder), log)
            image = install_and_commit(client, Path(folder), tag, key, log)
        remove_older(client, RUNTIME_REPOSITORY, keep=image.id)
    image.tag(RUNTIME_REPOSITORY, "latest")
    return tag


def remove_older(client: Any, repository: str, keep: str) -> None:
    """Untag the repository's other builds, so replaced images do not pile up (one still in use stays)."""
    for image in client.images.list(name=repository):
        if image.id == keep:
            continue
        for old_tag in image.tags:
            try:
                client.images.remove(old_tag)
            except docker.errors.APIError:
                pass


def download_wheels(folder: Path, log: Log) -> None:
    """The requirements' wheels (and pip's own) from pip's configured sources, into ``folder``."""
    log(f"collecting wheels for {REQUIREMENTS.relative_to(REPO_ROOT)} with pip (its configured indexes)")
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary", ":all:", "--dest", str(folder),
               "--requirement", str(REQUIREMENTS), "pip"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"pip download failed: {(done.stderr.strip().splitlines() or ['(no output)'])[-1]}")
    for wheel in folder.glob("*.whl"):
        if wheel.name.startswith(LEFT_OUT_WHEELS):
            wheel.unlink()
    wheels = sorted(folder.glob("*.whl"))
    log(f"{len(wheels)} wheels, {sum(w.stat().st_size for w in wheels) / 1e9:.1f} GB")


def install_and_commit(client: Any, wheels: Path, tag: str, key: str, log: Log) -> Any:
    """Install the wheels in a container of the base image (no network) and commit it as the runtime image."""
    container = client.containers.create(
        base_image(), ["sh", "-c", INSTALL.format(pip=f"{pip_wheel_name(wheels)}/pip")],
        network_mode="none", volumes={str(wheels): {"bind": "/wheels", "mode": "ro"}}, user="0:0",
    )
    try:
        container.start()
        for line in container.logs(stream=True, follow=True):
            log(line.decode(errors="replace").rstrip())
        status = container.wait()["StatusCode"]
        if status != 0:
            raise RuntimeError(f"installing the runtime's wheels failed (exit {status}); see the lines above")
        repository, _, version = tag.partition(":")
        changes = RUNTIME_SETTINGS + [f"LABEL {CONTENT_LABEL}={key}"]
        image = container.commit(repository=repository, tag=version, changes=changes)
    finally:
        container.remove(force=True)
    log(f"runtime image {tag}: {image.attrs['Size'] / 1e9:.1f} GB")
    return image


def pip_wheel_name(wheels: Path) -> str:
    return next(w.name for w in sorted(wheels.glob("pip-*.whl")))


def code_files() -> list[Path]:
    """What of ``baselines/`` goes into every baseline image: its Python code, metadata and Dockerfiles."""
    wanted = [p for p in PACKAGE_ROOT.rglob("*") if p.is_file() and (p.suffix in (".py", ".yaml") or p.name == "Dockerfile")]
    return sorted(p for p in wanted if "__pycache__" not in p.parts)


def baseline_context(baseline: Baseline, checkpoint: Path | None) -> tuple[bytes, list[bytes]]:
    """The build context (a tar of ``baselines/`` and ``checkpoint.npz``) and the parts its key hashes."""
    members: list[tuple[str, bytes]] = [(str(p.relative_to(REPO_ROOT)), p.read_bytes()) for p in code_files()]
    if checkpoint is not None:
        members.append((CHECKPOINT_IN_CONTEXT, Path(checkpoint).read_bytes()))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            archive.addfile(info, io.BytesIO(data))
    parts = [baseline.name.encode()] + [name.encode() + b"\0" + data for name, data in members]
    return buffer.getvalue(), parts


def ensure_baseline_image(client: Any, baseline: Baseline, checkpoint: Path | None, runtime: str, log: Log = print) -> str:
    """The baseline's content-keyed image tag, built ``FROM`` ``runtime`` first when missing."""
    if baseline.needs_training and checkpoint is None:
        raise ValueError(f"baseline {baseline.name!r} needs its checkpoint to build an image; train it with: python -m baselines train --only {baseline.name}")
    context, parts = baseline_context(baseline, checkpoint)
    key = content_key([client.images.get(runtime).id.encode(), *parts])
    tag = f"{BASELINE_REPOSITORY.format(name=baseline.name)}:{key[:12]}"
    if image_with_key(client, key) is None:
        log(f"building {tag}")
        dockerfile = f"{baseline.folder.relative_to(REPO_ROOT)}/Dockerfile"
        events = client.api.build(fileobj=io.BytesIO(context), custom_context=True, dockerfile=dockerfile, tag=tag,
                                  buildargs={"RUNTIME": runtime}, labels={CONTENT_LABEL: key}, rm=True, forcerm=True,
                                  network_mode="none", decode=True)
        for event in events:
            if "error" in event:
                raise RuntimeError(f"building {tag} failed: {str(event['error']).strip()}")
        remove_older(client, tag.split(":")[0], keep=client.images.get(tag).id)
    else:
        client.images.get(image_with_key(client, key).id).tag(*tag.split(":"))
    return tag


def current_checkpoint(baseline: Baseline, data_root: Path) -> Path | None:
    """Its checkpoint on its benchmark's built protocol (None when it learns nothing or is not trained yet)."""
    if not baseline.needs_training:
        return None
    path = checkpoint_path(baseline.benchmark, baseline.name, load_built(baseline.benchmark, data_root).protocol_hash)
    return path if path.is_file() else None


def build_images(client: Any, baselines: list[Baseline], data_root: Path, log: Log = print) -> dict[str, str]:
    """The runtime image, then each baseline's image; returns name → tag, or name → why it was not built."""
    runtime = ensure_runtime_image(client, log)
    built: dict[str, str] = {}
    for number, baseline in enumerate(baselines, 1):
        log(f"[{number}/{len(baselines)}] {baseline.name}")
        try:
            checkpoint = current_checkpoint(baseline, data_root)
            built[baseline.name] = ensure_baseline_image(client, baseline, checkpoint, runtime, log)
        except (FileNotFoundError, ValueError) as error:
            built[baseline.name] = f"not built: {error}"
    return built
