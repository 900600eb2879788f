"""Signup refuses the names the platform uses for itself; the baseline owner exists from the first migrate.

Before, anyone could sign up as ``toonbench`` (the account that owns every
baseline row, created on first use, so on a new deployment the first to
sign up owned the baselines), as ``toonbench-worker`` or as ``admin``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import unicodedata
from html import unescape
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

REPO_ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple 42"
SHOW_OWNER = (
    "from django.contrib.auth import authenticate; from django.contrib.auth.models import User; "
    "owner = User.objects.get(username='toonbench'); "
    "print(owner.has_usable_password(), owner.is_active, owner.is_staff, owner.is_superuser, "
    "authenticate(username='toonbench', password='known password'))"
)
SQUAT = (
    "from django.contrib.auth.models import User; "
    "User.objects.create_superuser('toonbench', 'squatter@example.org', 'known password')"
)


def sign_up(client: Client, username: str):  # type: ignore[no-untyped-def]
    return client.post("/accounts/signup/", {"username": username, "email": "someone@example.org",
                                             "password1": PASSWORD, "password2": PASSWORD})


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["toonbench", "Toonbench", "toonbench-worker", "admin", "ＡＤＭＩＮ",
                                      "toonbench.official", "Registry"])
def test_signup_refuses_the_platforms_own_names_with_one_line(client, username) -> None:  # type: ignore[no-untyped-def]
    page = sign_up(client, username)

    assert page.status_code == 400
    shown = unicodedata.normalize("NFKC", username)  # as Django's username field cleans it
    assert f"the username {shown!r} is reserved for the platform; choose another" in unescape(page.content.decode())
    assert not User.objects.filter(username__iexact=shown, is_active=True).exists()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_signup_still_takes_an_ordinary_name(client) -> None:  # type: ignore[no-untyped-def]
    page = sign_up(client, "toonbenchfan")

    assert page.status_code == 302
    assert User.objects.get(username="toonbenchfan").is_active


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip()


@pytest.fixture
def new_deployment(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "TOONBENCH_"))}
    env.update({"DEBUG": "1", "SECRET_KEY": "", "TOONBENCH_VAR_DIR": str(tmp_path / "var"),
                "DATABASE_URL": f"sqlite:///{tmp_path / 'site.sqlite3'}"})
    return env


@pytest.mark.slow
def test_after_migrate_the_baseline_owner_exists_and_cannot_sign_in(new_deployment) -> None:  # type: ignore[no-untyped-def]
    manage(new_deployment, "migrate", "--noinput")

    assert manage(new_deployment, "shell", "-c", SHOW_OWNER).splitlines()[-1] == "False False False False None"


@pytest.mark.slow
def test_migrate_takes_the_name_back_from_an_account_made_before(new_deployment) -> None:  # type: ignore[no-untyped-def]
    manage(new_deployment, "migrate", "--noinput")
    manage(new_deployment, "migrate", "accounts", "zero", "--noinput")
    manage(new_deployment, "shell", "-c", "from django.contrib.auth.models import User; "
                                          "User.objects.filter(username='toonbench').delete()")
    manage(new_deployment, "shell", "-c", SQUAT)
    assert manage(new_deployment, "shell", "-c", SHOW_OWNER).splitlines()[-1] == "True True True True toonbench"

    manage(new_deployment, "migrate", "accounts", "--noinput")

    assert manage(new_deployment, "shell", "-c", SHOW_OWNER).splitlines()[-1] == "False False False False None"
