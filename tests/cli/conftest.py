"""CLI tests: the ``toonbench`` entry point against the live test server over real HTTP.

Django is configured by tests/site/conftest.py, loaded here under another
module name so both folders share one configuration and its fixtures
(``site``, ``toonnet``, ``alice``, ``bob``, ...); tests/site's helpers that
store finished submissions are importable from here too.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fixture_sharing import borrow_conftest

_site = borrow_conftest("site", "site_conftest_for_cli")

data_root = _site.data_root
toonnet_built = _site.toonnet_built
site = _site.site
toonnet = _site.toonnet
alice = _site.alice
bob = _site.bob
cli_config = _site.cli_config

from django.core.cache import caches  # noqa: E402

import jobs.queueing  # noqa: E402
from toonbench_site.celery import app as celery_app  # noqa: E402


@pytest.fixture(autouse=True)
def fresh_throttles() -> Iterator[None]:
    """Sign-in counters are kept per address in a shared cache; every test signs in from 127.0.0.1."""
    caches["throttle"].clear()
    yield
    caches["throttle"].clear()


@pytest.fixture
def eager_jobs() -> Iterator[None]:
    """Submitting runs the evaluation at once, inside the request, like a worker would."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def queued_jobs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ids of the submissions sent to the workers, kept here (no worker runs them): they stay queued."""
    sent: list[int] = []

    class Sent:
        id = "kept-by-the-test"

    def keep(args: tuple[int], queue: str) -> Sent:
        sent.append(int(args[0]))
        return Sent()

    monkeypatch.setattr(jobs.queueing.evaluate_submission, "apply_async", keep)
    return sent
