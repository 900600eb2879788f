"""The real site in subprocesses: migrated, toonnet synced, served by scripts/serve.sh (gunicorn) on loopback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
MAKE_USER_TOKEN = (
    "from django.contrib.auth.models import User; from rest_framework.authtoken.models import Token; "
    "print(Token.objects.create(user=User.objects.create_user({username!r}, password='correct horse battery')).key)"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def site_environment(folder: Path, data_root: Path, database_url: str = "") -> dict[str, str]:
    """Environment of a fresh deployment under ``folder`` (SQLite there unless ``database_url``)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "TOONBENCH_"))}
    env.pop("DEBUG", None)
    env.pop("SECRET_KEY", None)
    (folder / "tmp").mkdir(parents=True, exist_ok=True)
    env.update({
        "DATABASE_URL": database_url or f"sqlite:///{folder / 'site.sqlite3'}",
        "TOONBENCH_VAR_DIR": str(folder / "var"),
        "TOONBENCH_MEDIA_ROOT": str(folder / "media"),
        "TOONBENCH_WORK_ROOT": str(folder / "jobs"),
        "TOONBENCH_DATA_ROOT": str(data_root),
        "TOONBENCH_STATIC_ROOT": str(folder / "static"),
        "TOONBENCH_RUNNER": "local",
        "TMPDIR": str(folder / "tmp"),
        "PYTHON": sys.executable,
        "PYTHONUNBUFFERED": "1",
    })
    for command in (["migrate", "-v0"], ["sync_benchmarks", "toonnet"]):
        manage(env, *command)
    return env


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed: {(done.stdout + done.stderr)[-2000:]}")
    return done.stdout


def user_token(env: dict[str, str], username: str = "alice") -> str:
    """Create a user (password 'correct horse battery') in the deployment; returns its API token."""
    return manage(env, "shell", "-c", MAKE_USER_TOKEN.format(username=username)).strip().splitlines()[-1]


@contextmanager
def served(env: dict[str, str], log: Path) -> Iterator[str]:
    """Run scripts/serve.sh (gunicorn, DEBUG off) until the block ends; yields its base URL."""
    port = free_port()
    with open(log, "wb") as output:
        server = subprocess.Popen(["bash", "scripts/serve.sh", "127.0.0.1", str(port)], cwd=REPO_ROOT, env=env,
                                  stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_serving(base, server, log)
            yield base
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


def wait_until_serving(base: str, server: subprocess.Popen[bytes], log: Path, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the site exited with {server.returncode}: {log.read_text()[-2000:]}")
        try:
            requests.get(f"{base}/api/benchmarks/", timeout=10)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"the site did not answer within {timeout_s:g} s: {log.read_text()[-2000:]}")
