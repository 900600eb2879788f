"""``toonbench host`` against a live server: upload a benchmark, watch the worker build it, publish it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from django.contrib.auth.models import User

import benchmarks.tasks
from benchmarks.models import Benchmark
from benchmarks.tasks import build_uploaded_benchmark
from hosted_specs import spec_bytes, spec_document, write_dataset
from toonbench_cli.main import main

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def hosting(site, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """This test's own data root and specs folder; queued builds are kept for the test to run as a worker."""
    site.TOONBENCH_DATA_ROOT = tmp_path / "data"
    site.TOONBENCH_DATA_ROOT.mkdir()
    monkeypatch.setenv("TOONBENCH_SPECS_DIR", str(tmp_path / "specs"))
    queued: list[tuple[list[int], str]] = []
    monkeypatch.setattr(build_uploaded_benchmark, "apply_async", lambda args, queue: queued.append((args, queue)))
    return queued


@pytest.fixture
def gated_build(monkeypatch):  # type: ignore[no-untyped-def]
    """The worker's build waits for the test to open the gate, so the host can see it building."""
    gate, started = threading.Event(), threading.Event()
    real = benchmarks.tasks.build_benchmark

    def waiting(*args, **kwargs):  # type: ignore[no-untyped-def]
        started.set()
        assert gate.wait(60)
        return real(*args, **kwargs)

    monkeypatch.setattr(benchmarks.tasks, "build_benchmark", waiting)
    return gate, started


def run(capsys, *argv: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def login(capsys, server: str, username: str) -> None:  # type: ignore[no-untyped-def]
    assert run(capsys, "--server", server, "login", "-u", username, "-p", "correct horse battery")[0] == 0


def test_a_host_creates_watches_and_publishes_a_benchmark(  # type: ignore[no-untyped-def]
    live_server, hosting, gated_build, cli_config, alice, django_user_model: type[User], tmp_path: Path, capsys
) -> None:
    django_user_model.objects.create_user("hostess", "host@example.org", "correct horse battery", is_staff=True)
    spec = tmp_path / "shapes.yaml"
    spec.write_bytes(spec_bytes(spec_document()))
    data = write_dataset(tmp_path / "shapes-data")
    login(capsys, live_server.url, "hostess")

    code, out, err = run(capsys, "host", "create", str(spec), "--data", str(data))
    assert code == 0, err
    assert out == "shapes: queued (not published): waiting for a worker\n"
    [(args, queue)] = hosting
    assert queue == "maintenance"

    gate, started = gated_build
    worker = threading.Thread(target=build_uploaded_benchmark, args=args)
    worker.start()
    assert started.wait(60)
    code, out, _ = run(capsys, "host", "status", "shapes")
    assert out == "shapes: building (not published): building the benchmark from its data\n"
    gate.set()
    worker.join(120)
    code, out, _ = run(capsys, "host", "status", "shapes", "--wait")
    assert code == 0 and out.startswith("shapes: built (not published): built: 6 test and 6 training items")

    login(capsys, live_server.url, "alice")
    code, out, _ = run(capsys, "benchmarks")
    assert code == 0 and "shapes" not in out
    code, _, err = run(capsys, "host", "publish", "shapes")
    assert code == 3 and err.strip().endswith("HTTP 403: only the hosts of shapes may see its build or publish it")
    code, _, err = run(capsys, "host", "create", str(spec), "--data", str(data))
    assert code == 3 and err.strip().endswith("HTTP 403: only the site's staff may upload a benchmark")

    login(capsys, live_server.url, "hostess")
    code, out, _ = run(capsys, "host", "publish", "shapes")
    assert code == 0 and out.startswith("shapes: built (published): ")

    login(capsys, live_server.url, "alice")
    code, out, _ = run(capsys, "benchmarks")
    assert code == 0 and "shapes" in out and "Two cartoon shapes" in out
    assert Benchmark.objects.get(slug="shapes").is_active
