"""Pushing through the real engine and registry, forgetting local copies so the next use must pull, and running ``toonbench``."""

from __future__ import annotations

from typing import Any

import docker.errors
import pytest

from toonbench_cli.main import main


def push(client: Any, local_image: str, repository: str, tag: str, auth: dict[str, str]) -> tuple[str, str]:
    """Tag and push; returns (pushed digest, the engine's error line or '')."""
    client.images.get(local_image).tag(repository, tag)
    digest, error = "", ""
    for event in client.api.push(repository, tag=tag, stream=True, decode=True, auth_config=auth):
        error = error or str(event.get("error", ""))
        digest = str((event.get("aux") or {}).get("Digest") or digest)
    return digest, error


def forget(client: Any, *references: str) -> None:
    """Remove these names from the local engine (the image itself stays while other names hold it)."""
    for reference in references:
        try:
            client.images.remove(reference)
        except docker.errors.ImageNotFound:
            pass


def has(client: Any, reference: str) -> bool:
    try:
        client.images.get(reference)
    except docker.errors.ImageNotFound:
        return False
    return True


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``toonbench`` in this process: exit code, stdout, stderr."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err
