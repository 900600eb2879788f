"""The workers' registry password is random per installation, in every mode.

Before, with ``DEBUG=1`` it was derived from the hard-coded development
secret key, so every development installation shared one password that
anyone could compute. Each case starts the real settings module in a fresh
process, as a web server or worker would.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DEVELOPMENT_KEY = "django-insecure-toonbench-development-key-only-for-debug"
SHOW_PASSWORD = (
    "import sys; sys.path[:0] = ['platform']; import toonbench_site.settings as s; "
    "print(s.TOONBENCH_REGISTRY_WORKER_PASSWORD)"
)


def worker_password(var_dir: Path, **extra: str) -> str:
    """The password the settings give an installation whose var folder is ``var_dir``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "TOONBENCH_"))}
    env.update({"DEBUG": "1", "SECRET_KEY": "", "TOONBENCH_VAR_DIR": str(var_dir), **extra})
    done = subprocess.run([sys.executable, "-c", SHOW_PASSWORD], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_two_debug_installations_get_different_passwords_kept_private_and_reused(tmp_path: Path) -> None:
    first, second = tmp_path / "one" / "var", tmp_path / "two" / "var"

    passwords = [worker_password(first), worker_password(second), worker_password(first)]

    assert passwords[0] != passwords[1] and passwords[0] == passwords[2]
    assert len(passwords[0]) >= 50
    old_derivation = hashlib.sha256(f"toonbench-registry-worker:{DEVELOPMENT_KEY}".encode()).hexdigest()
    assert old_derivation not in passwords
    stored = first / "registry_worker_password"
    assert stored.read_text() == passwords[0]
    assert stored.stat().st_mode & 0o777 == 0o600


def test_the_environment_sets_it_for_workers_on_other_hosts(tmp_path: Path) -> None:
    assert worker_password(tmp_path / "var", TOONBENCH_REGISTRY_WORKER_PASSWORD="shared by every host") == (
        "shared by every host"
    )
    assert not (tmp_path / "var" / "registry_worker_password").exists()


def test_a_damaged_password_file_is_refused_with_what_to_do(tmp_path: Path) -> None:
    stored = tmp_path / "var" / "registry_worker_password"
    stored.parent.mkdir()
    stored.write_text("short")

    with pytest.raises(AssertionError, match="holds 5 characters, expected at least 50; delete it to have a new "
                                             "one generated, or set TOONBENCH_REGISTRY_WORKER_PASSWORD"):
        worker_password(tmp_path / "var")
