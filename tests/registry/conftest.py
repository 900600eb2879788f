"""Registry tests: the site configured as for tests/site, a real registry, a real Docker engine.

Django is configured by tests/site/conftest.py, loaded here under another
module name so both folders share one configuration and its fixtures
(``site``, ``toonnet``, ``alice``, ``bob``, ...); the Docker fixtures come
from tests/runners/conftest.py the same way. ``registry_server`` starts
scripts/services/registry.sh for the session on a free loopback port, with
the live test server as its token service.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from fixture_sharing import borrow_conftest

TESTS = Path(__file__).resolve().parents[1]
REPO = TESTS.parent
REGISTRY_SCRIPT = REPO / "scripts" / "services" / "registry.sh"
IMAGES = Path(__file__).resolve().parent / "images"
SIGNED_ADDRESS = "127.0.0.1:5999"


_site = borrow_conftest("site", "site_conftest_for_registry")
_runners = borrow_conftest("runners", "runners_conftest_for_registry")

data_root = _site.data_root
toonnet_built = _site.toonnet_built
site = _site.site
toonnet = _site.toonnet
alice = _site.alice
bob = _site.bob
cli_config = _site.cli_config
docker_client = _runners.docker_client
engine = _runners.engine

from django.conf import settings as django_settings  # noqa: E402
from django.core.cache import caches  # noqa: E402
from pytest_django.fixtures import Settings  # noqa: E402


@pytest.fixture(autouse=True)
def fresh_attempt_counts() -> Iterator[None]:
    """Failed image pins count per user in the shared throttle cache; user ids repeat between tests."""
    caches["throttle"].clear()
    yield
    caches["throttle"].clear()


@pytest.fixture
def signing_key(site: Settings, tmp_path: Path) -> rsa.RSAPrivateKey:
    """A fresh token-signing key the site signs registry tokens with, for a registry said to be at SIGNED_ADDRESS."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "token.key"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    site.TOONBENCH_REGISTRY_KEY = path
    site.TOONBENCH_REGISTRY_ADDR = SIGNED_ADDRESS
    return key


@dataclass(frozen=True)
class RunningRegistry:
    address: str
    folder: Path

    @property
    def key(self) -> Path:
        return self.folder / "token.key"

    @property
    def certificate(self) -> Path:
        return self.folder / "token.crt"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def registry_answers(address: str) -> bool:
    try:
        response = requests.get(f"http://{address}/v2/", timeout=2)
    except requests.RequestException:
        return False
    return response.status_code == 401 and "bearer" in response.headers.get("WWW-Authenticate", "").lower()


@pytest.fixture(scope="session")
def registry_server(live_server: Any, docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    """The registry as scripts/services/registry.sh runs it, trusting tokens from the live server."""
    folder = tmp_path_factory.mktemp("registry")
    address = f"127.0.0.1:{free_port()}"
    environment = {
        **os.environ,
        "TOONBENCH_REGISTRY_ADDR": address,
        "TOONBENCH_REGISTRY_DIR": str(folder),
        "TOONBENCH_REGISTRY_REALM": f"{live_server.url}/registry/token/",
        "TOONBENCH_REGISTRY_SERVICE": django_settings.TOONBENCH_REGISTRY_SERVICE,
        "TOONBENCH_REGISTRY_ISSUER": django_settings.TOONBENCH_REGISTRY_ISSUER,
    }
    done = subprocess.run(["bash", str(REGISTRY_SCRIPT)], env=environment, capture_output=True, text=True,
                          timeout=600)
    if not registry_answers(address):
        pytest.skip(f"the registry could not start:\n{done.stdout}{done.stderr}")
    yield RunningRegistry(address, folder)
    pid_file = folder / "registry.pid"
    if pid_file.is_file():
        try:
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
        except (ProcessLookupError, ValueError):
            pass


@pytest.fixture
def platform_registry(site: Settings, registry_server: RunningRegistry, tmp_path: Path) -> RunningRegistry:
    """Site settings pointing at the session's registry, with the Docker runner."""
    site.TOONBENCH_REGISTRY_ADDR = registry_server.address
    site.TOONBENCH_REGISTRY_KEY = registry_server.key
    site.TOONBENCH_RUNNER = "docker"
    return registry_server


def build_image(client: Any, name: str) -> str:
    """Build ``tests/registry/images/<name>`` unless an image of the same context exists; returns its tag."""
    context = IMAGES / name
    digest = _runners.context_hash(context, client.images.get(_runners.BASE_IMAGE).id)
    tag = f"toonbench-test/{name}:{digest[:12]}"
    if not client.images.list(filters={"label": f"{_runners.CONTEXT_LABEL}={digest}"}):
        client.images.build(path=str(context), tag=tag, labels={_runners.CONTEXT_LABEL: digest}, rm=True,
                            forcerm=True, network_mode="none")
    return tag


@pytest.fixture(scope="session")
def index_scores_image(docker_client: Any) -> str:
    return build_image(docker_client, "index_scores")
