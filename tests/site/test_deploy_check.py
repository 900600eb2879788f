"""Production settings come from the environment: `check --deploy` is clean and WhiteNoise serves static files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

SERVE_PAGES = r"""
import os, sys
sys.path[:0] = [os.getcwd(), os.path.join(os.getcwd(), "platform")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "toonbench_site.settings")
import django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="toonbench.example.org")
plain = client.get("/")
home = client.get("/", secure=True)
css_url = home.content.decode().split('rel="stylesheet" href="')[1].split('"')[0]
css = client.get(css_url, secure=True)
print("|".join(str(v) for v in (plain.status_code, plain.get("Location"), home.status_code,
      home.get("Strict-Transport-Security"), css_url, css.status_code, css.get("Cache-Control"))))
"""


@pytest.fixture(scope="module")
def production_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("production")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "TOONBENCH_"))}
    env.update({
        "DEBUG": "0",
        "SECRET_KEY": "p" * 20 + "-production-secret-key-with-enough-entropy-0123456789",
        "ALLOWED_HOSTS": "toonbench.example.org",
        "DATABASE_URL": f"sqlite:///{folder / 'site.sqlite3'}",
        "TOONBENCH_VAR_DIR": str(folder / "var"),
        "TOONBENCH_STATIC_ROOT": str(folder / "static"),
        "TOONBENCH_MEDIA_ROOT": str(folder / "media"),
        "SESSION_COOKIE_SECURE": "1",
        "CSRF_COOKIE_SECURE": "1",
    })
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def test_check_deploy_is_clean_with_production_settings(production_env: dict[str, str]) -> None:
    result = manage(production_env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_without_a_secret_key_production_generates_one_kept_private_and_reused(
    production_env: dict[str, str], tmp_path: Path
) -> None:
    key_file = tmp_path / "var" / "secret_key"
    env = dict(production_env, SECRET_KEY="", TOONBENCH_SECRET_KEY_FILE=str(key_file))
    show_key = ["shell", "-c", "from django.conf import settings; print(settings.SECRET_KEY)"]
    first, second = (manage(env, *show_key).stdout.strip().splitlines()[-1] for _ in range(2))
    assert first == second == key_file.read_text() and len(first) >= 50
    assert key_file.stat().st_mode & 0o777 == 0o600
    key_file.write_text("short")
    refused = manage(env, "check")
    assert refused.returncode != 0 and "holds 5 characters, expected at least 50" in refused.stderr


def test_collectstatic_writes_hashed_files_that_whitenoise_serves_over_https(production_env: dict[str, str]) -> None:
    assert manage(production_env, "migrate", "--noinput").returncode == 0
    collected = manage(production_env, "collectstatic", "--noinput")
    assert collected.returncode == 0, collected.stderr
    static_root = Path(production_env["TOONBENCH_STATIC_ROOT"])
    manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    hashed_css = manifest["toonbench.css"]
    assert hashed_css != "toonbench.css" and (static_root / hashed_css).is_file()
    assert any(name.startswith("drf_spectacular_sidecar/redoc") for name in manifest)

    served = subprocess.run([sys.executable, "-c", SERVE_PAGES], cwd=REPO_ROOT, env=production_env,
                            capture_output=True, text=True, timeout=300)
    assert served.returncode == 0, served.stderr
    plain_status, redirect, status, hsts, css_url, css_status, cache = served.stdout.strip().splitlines()[-1].split("|")
    assert plain_status == "301" and redirect == "https://toonbench.example.org/"
    assert status == "200" and hsts.startswith("max-age=31536000")
    assert css_url == f"/static/{hashed_css}" and css_status == "200" and "immutable" in cache
