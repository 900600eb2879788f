"""Overhead of pulling a submission image from the platform registry, next to a plain ``docker run --rm``.

Sets up what a deployment runs, in a scratch folder: the site (SQLite,
``manage.py runserver``) as the token service, the registry from
scripts/services/registry.sh, one user with an API token. A single-layer
copy of the base image (its own layer, so removing it frees everything) is
pushed once; then, N times each:
  - cold: the image removed from the engine first, then ``ensure_image``
    (manifest check, token, pull of every layer) and ``docker run --rm``;
  - cached: the image already present, ``ensure_image`` (one engine lookup)
    and ``docker run --rm``;
  - peer: ``docker run --rm`` alone;
taken in turn (cold, cached, peer, cold, ...). Prints median and p95 per case and the cold/peer and cached/peer ratios.

Usage: python bench/bench_registry_pull.py [--runs 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import numpy as np
import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from evaluator.registry_client import Credentials, RegistryClient, parse_reference  # noqa: E402
from evaluator.runners.images import PullSettings, ensure_image  # noqa: E402

BASE_IMAGE = os.environ.get("TOONBENCH_BASE_IMAGE", "toonbench/python-numpy:base")
WORKER = Credentials("bench-worker", "bench-worker-password")
USERNAME = "bench"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {seconds:g} s")


def start_site(scratch: Path, registry: str) -> tuple[subprocess.Popen, str, dict[str, str]]:
    """Migrate a scratch database, make the user and its token, serve the site; returns (process, url, env)."""
    port = free_port()
    env = {**os.environ, "DEBUG": "1", "TOONBENCH_VAR_DIR": str(scratch / "var"),
           "TOONBENCH_REGISTRY_ADDR": registry, "TOONBENCH_REGISTRY_DIR": str(scratch / "registry"),
           "TOONBENCH_REGISTRY_WORKER_USER": WORKER.username, "TOONBENCH_REGISTRY_WORKER_PASSWORD": WORKER.password}
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v0"], cwd=REPO, env=env, check=True)
    make_user = ("from django.contrib.auth.models import User; from rest_framework.authtoken.models import Token; "
                 f"u = User.objects.create_user('{USERNAME}'); print(Token.objects.create(user=u).key)")
    token = subprocess.run([python, "manage.py", "shell", "-c", make_user], cwd=REPO, env=env, check=True,
                           capture_output=True, text=True).stdout.strip().splitlines()[-1]
    site = subprocess.Popen([python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_for(f"{url}/api/registry/")
    return site, url, {"username": USERNAME, "password": token}


def start_registry(scratch: Path, address: str, site_url: str) -> int:
    env = {**os.environ, "TOONBENCH_REGISTRY_ADDR": address, "TOONBENCH_REGISTRY_DIR": str(scratch / "registry"),
           "TOONBENCH_REGISTRY_REALM": f"{site_url}/registry/token/"}
    done = subprocess.run(["bash", str(REPO / "scripts" / "services" / "registry.sh")], env=env, text=True,
                          capture_output=True)
    pid_file = scratch / "registry" / "registry.pid"
    if not pid_file.is_file():
        raise SystemExit(f"the registry did not start:\n{done.stdout}{done.stderr}")
    return int(pid_file.read_text())


def single_layer_copy(client: docker.DockerClient, tag: str) -> None:
    """The base image's file system as one new layer (``docker export | docker import``)."""
    container = client.containers.create(BASE_IMAGE, command=["true"])
    try:
        client.api.import_image(src=b"".join(container.export()), repository=tag.rsplit(":", 1)[0],
                                tag=tag.rsplit(":", 1)[1], changes=['CMD ["python3"]'])
    finally:
        container.remove()


def push(client: docker.DockerClient, repository: str, tag: str, auth: dict[str, str]) -> str:
    digest = ""
    for event in client.api.push(repository, tag=tag, stream=True, decode=True, auth_config=auth):
        if "error" in event:
            raise SystemExit(f"push failed: {event['error']}")
        digest = str((event.get("aux") or {}).get("Digest") or digest)
    return digest


Case = tuple[Callable[[], object], Callable[[], object]]


def interleaved(cases: dict[str, Case], runs: int) -> dict[str, list[float]]:
    """Each case's (untimed preparation, timed action), taken in turn, so load drift hits every case alike."""
    durations: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, (before, action) in cases.items():
            before()
            started = time.perf_counter()
            action()
            durations[name].append(time.perf_counter() - started)
    return durations


def summary(durations: list[float]) -> dict[str, float]:
    return {"median_s": float(np.median(durations)), "p95_s": float(np.percentile(durations, 95)),
            "runs": len(durations)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    client = docker.from_env(timeout=600)
    with tempfile.TemporaryDirectory(prefix="toonbench-bench-pull-") as folder:
        scratch = Path(folder)
        address = f"127.0.0.1:{free_port()}"
        site, site_url, auth = start_site(scratch, address)
        registry_pid = start_registry(scratch, address, site_url)
        local, repository = "toonbench-bench/pull:1", f"{address}/{USERNAME}/pull"
        pinned = f"{repository}:1"
        try:
            single_layer_copy(client, local)
            client.images.get(local).tag(repository, "1")
            pinned = f"{repository}@{push(client, repository, '1', auth)}"
            client.images.remove(local)
            client.images.remove(f"{repository}:1")
            # The bench's own registry (and its token service, the bench's site) are on loopback.
            registry = RegistryClient(lambda host: WORKER, trusted=lambda host: host == address)
            settings = PullSettings(registry=registry, cache_file=scratch / "cache.json",
                                    credentials=lambda host: WORKER)
            run = ["docker", "run", "--rm", "--network", "none", pinned, "true"]

            def pull_and_run() -> None:
                ensure_image(client, pinned, settings)
                subprocess.run(run, check=True, stdout=subprocess.DEVNULL)

            def remove() -> None:
                try:
                    client.images.remove(pinned, force=True)
                except docker.errors.ImageNotFound:  # the first time: already gone with its tags
                    pass

            registry_mb = settings.registry.resolve(parse_reference(pinned)).size_bytes / 1e6
            durations = interleaved({
                "cold": (remove, pull_and_run),
                "cached": (lambda: None, pull_and_run),
                "peer": (lambda: None, lambda: subprocess.run(run, check=True, stdout=subprocess.DEVNULL)),
            }, args.runs)
            image_mb = client.images.get(pinned).attrs["Size"] / 1e6
        finally:
            for reference in (local, f"{repository}:1", pinned):
                try:
                    client.images.remove(reference, force=True)
                except docker.errors.APIError:
                    pass
            os.kill(registry_pid, signal.SIGTERM)
            site.terminate()
            site.wait(timeout=30)
    figures: dict[str, Any] = {"image_mb": round(image_mb, 1), "registry_mb": round(registry_mb, 1),
                               **{name: summary(values) for name, values in durations.items()}}
    figures["cold_over_peer"] = figures["cold"]["median_s"] / figures["peer"]["median_s"]
    figures["cached_over_peer"] = figures["cached"]["median_s"] / figures["peer"]["median_s"]
    for case in ("cold", "cached", "peer"):
        print(f"{case:7s} median {figures[case]['median_s']:.2f} s  p95 {figures[case]['p95_s']:.2f} s  "
              f"({figures[case]['runs']} runs)")
    print(f"image {figures['image_mb']} MB in the engine, {figures['registry_mb']} MB compressed; "
          f"cold/peer {figures['cold_over_peer']:.1f}x, cached/peer {figures['cached_over_peer']:.2f}x")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
