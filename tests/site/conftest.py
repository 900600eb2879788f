"""Site tests: Django configured through pytest-django, one tiny toonnet built per session.

The settings module is chosen here, not for the whole suite, so running
another test folder alone never starts Django. The test database is a
SQLite file (as in the embedded deployment), not memory, so a job's
heartbeat thread and the test share it the way a worker and the site do.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
for _path in (REPO_ROOT, REPO_ROOT / "platform"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "toonbench_site.settings")
_scratch = Path(tempfile.mkdtemp(prefix="toonbench-site-tests-"))
# DEBUG is off, as in the embedded default; its generated secret key is kept in scratch space.
os.environ.setdefault("TOONBENCH_SECRET_KEY_FILE", str(_scratch / "secret_key"))

import django  # noqa: E402
from django.conf import settings  # noqa: E402

settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = str(_scratch / "test.sqlite3")
settings.STATIC_ROOT = _scratch / "static"  # WhiteNoise expects the collectstatic folder to exist
settings.STATIC_ROOT.mkdir()
# Plain HTTP on loopback, as scripts/run.sh serves it: no HTTPS redirect, no secure-only cookies.
settings.SECURE_SSL_REDIRECT = settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
# Pages link static files by name; the hashed manifest of collectstatic is tested in test_deploy_check.
settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
# Sign-in throttle counters start empty for each test session (tests clear them between tests).
settings.CACHES["throttle"]["LOCATION"] = str(_scratch / "throttle")
# Tests create many users; the production hasher's deliberate slowness is not under test here.
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
django.setup()

from datasets.build import BuiltBenchmark, build_benchmark  # noqa: E402
from datasets.spec import load_spec  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.cache import caches  # noqa: E402
from pytest_django.fixtures import Settings  # noqa: E402

from benchmarks.models import Benchmark  # noqa: E402


SITE_BUILD_SECRET = "site-tests-build-secret-" + "3c" * 16


@pytest.fixture(scope="session")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root holding the tiny toonnet build, shared by every site test: a server split,
    keyed by a test build secret as a site's own builds are."""
    root = tmp_path_factory.mktemp("data")
    build_benchmark("toonnet", root, profile="tiny", secret=SITE_BUILD_SECRET)
    (root / ".build-secret").write_text(SITE_BUILD_SECRET + "\n")  # where a server build keeps it
    return root


@pytest.fixture(scope="session")
def toonnet_built(data_root: Path) -> BuiltBenchmark:
    from datasets.build import load_built

    return load_built("toonnet", data_root)


@pytest.fixture
def site(settings: Settings, data_root: Path, tmp_path: Path) -> Settings:
    """Settings pointing data, media and scratch space at test folders, with fast heartbeats."""
    settings.TOONBENCH_DATA_ROOT = data_root
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TOONBENCH_WORK_ROOT = tmp_path / "jobs"
    settings.TOONBENCH_RUNNER = "local"
    settings.TOONBENCH_HEARTBEAT_INTERVAL_S = 0.2
    settings.TOONBENCH_HEARTBEAT_STALE_S = 5
    settings.TOONBENCH_MAX_ATTEMPTS = 2
    return settings


@pytest.fixture
def toonnet(site: Settings, data_root: Path) -> Benchmark:
    """The toonnet benchmark synced into the test database, with its tiny protocol current."""
    from benchmarks.sync import sync_benchmarks

    sync_benchmarks(data_root, specs=[load_spec("toonnet")])
    return Benchmark.objects.get(slug="toonnet")


@pytest.fixture
def alice(django_user_model: type[User]) -> User:
    return django_user_model.objects.create_user("alice", "alice@example.org", "correct horse battery")


@pytest.fixture
def bob(django_user_model: type[User]) -> User:
    return django_user_model.objects.create_user("bob", "bob@example.org", "correct horse battery")


@pytest.fixture
def cli_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``toonbench`` config file of this test's own, and no server from the environment."""
    path = tmp_path / "config" / "toonbench.json"
    monkeypatch.setenv("TOONBENCH_CONFIG", str(path))
    monkeypatch.delenv("TOONBENCH_SERVER", raising=False)
    return path


@pytest.fixture
def account_mail(settings: Settings, mailoutbox: list) -> Iterator[None]:
    """Account pages' mails sent by the real task in this process; sign-in counters (the password checks use
    them) start empty."""
    from mail_helpers import SITE_URL, tasks_run_eagerly  # beside this file, on the path only for tests/site

    settings.TOONBENCH_SITE_URL = SITE_URL
    caches["throttle"].clear()
    with tasks_run_eagerly():
        yield
