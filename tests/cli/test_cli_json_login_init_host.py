"""``--json`` on ``login``, ``init`` and ``host``: the real entry point against the live server over HTTP.

Each record is checked against what the server and the disk hold, and each
failure with ``--json`` exits with its documented status, with nothing on
stdout and one line on stderr.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token

from benchmarks.models import Benchmark
from benchmarks.tasks import build_uploaded_benchmark
from cli_run import PASSWORD, login, run, run_json
from hosted_specs import spec_bytes, spec_document, write_dataset

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

TOONBENCH = Path(sys.executable).parent / "toonbench"
BUILD_KEYS = {"slug", "origin", "build_state", "build_message", "published"}


def assert_failed(result: tuple[int, str, str], status: int, reason: str) -> None:
    """A failed ``--json`` command: the documented status, empty stdout, one line on stderr naming ``reason``."""
    code, out, err = result
    assert (code, out) == (status, ""), err
    assert err.count("\n") == 1 and err.startswith("toonbench: ") and reason in err, err


def test_login_prints_the_server_user_and_config_file_but_never_the_token(  # type: ignore[no-untyped-def]
    live_server, alice, bob, cli_config, capsys
) -> None:
    _, record, _ = run_json(capsys, "--server", live_server.url, "login", "-u", "alice", "-p", PASSWORD)
    alice_token = Token.objects.get(user=alice).key
    assert record == {"server": live_server.url, "username": "alice", "config": str(cli_config)}
    assert json.loads(cli_config.read_text()) == {"server": live_server.url, "token": alice_token}

    bob_token = Token.objects.create(user=bob).key
    code, out, _ = run(capsys, "login", "--token", bob_token, "--json")
    assert code == 0 and bob_token not in out
    assert json.loads(out) == {"server": live_server.url, "username": "bob", "config": str(cli_config)}
    assert json.loads(cli_config.read_text())["token"] == bob_token

    prompted = subprocess.run([str(TOONBENCH), "login", "-p", PASSWORD, "--json"], input="alice\n",
                              capture_output=True, text=True, timeout=120, check=False)
    assert (prompted.returncode, prompted.stderr) == (0, "username: ")
    assert json.loads(prompted.stdout) == {"server": live_server.url, "username": "alice", "config": str(cli_config)}
    assert json.loads(cli_config.read_text())["token"] == alice_token


def test_a_refused_login_with_json_keeps_stdout_empty_and_the_saved_token(  # type: ignore[no-untyped-def]
    live_server, alice, cli_config, capsys
) -> None:
    login(capsys, live_server.url, "alice")
    saved = cli_config.read_text()

    assert_failed(run(capsys, "login", "-u", "alice", "-p", "wrong password", "--json"), 1, "HTTP 400: ")
    assert_failed(run(capsys, "login", "--token", "0" * 40, "--json"), 3, "HTTP 401: ")
    assert cli_config.read_text() == saved
    assert_failed(run(capsys, "--server", "http://127.0.0.1:9", "login", "--token", "0" * 40, "--json"), 5,
                  "cannot reach http://127.0.0.1:9")


def bundle_protocol(capsys: pytest.CaptureFixture[str], target: Path) -> dict[str, object]:
    """The ``protocol.json`` of the toonnet bundle, downloaded with ``protocol download``."""
    code, _, err = run(capsys, "protocol", "download", "toonnet", "-o", str(target))
    assert code == 0, err
    with zipfile.ZipFile(target) as archive:
        return dict(json.loads(archive.read("toonnet/protocol.json")))


def test_init_prints_the_folder_the_files_it_wrote_and_the_protocol(  # type: ignore[no-untyped-def]
    live_server, toonnet, toonnet_built, cli_config, tmp_path, monkeypatch, capsys
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("TOONBENCH_SERVER", live_server.url)

    _, record, err = run_json(capsys, "init", "toonnet")
    kit = work / "toonnet-model"
    on_disk = sorted(path.relative_to(kit).as_posix() for path in kit.rglob("*") if path.is_file())
    assert record == {"benchmark": "toonnet", "folder": str(kit), "files": on_disk,
                      "version": toonnet.current_version().version, "protocol_hash": toonnet_built.protocol_hash}
    assert {"predict.py", "Dockerfile", "README.md"} <= set(on_disk)
    assert "next: cd toonnet-model && docker build" in err
    protocol = bundle_protocol(capsys, tmp_path / "bundle.zip")
    assert (record["version"], record["protocol_hash"]) == (protocol["version"], protocol["protocol_hash"])

    (kit / "predict.py").write_text("mine\n")
    assert_failed(run(capsys, "init", "toonnet", "--json"), 1, "pass --force to overwrite")
    assert (kit / "predict.py").read_text() == "mine\n"
    _, forced, _ = run_json(capsys, "init", "toonnet", str(kit), "--force")
    assert forced["files"] == on_disk and (kit / "predict.py").read_text() != "mine\n"

    assert_failed(run(capsys, "init", "no-such-benchmark", str(tmp_path / "other"), "--json"), 4, "HTTP 404: ")
    assert not (tmp_path / "other").exists()


@pytest.fixture
def hosting(site, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """This test's own data root and specs folder; queued builds are kept for the test to run as the worker."""
    site.TOONBENCH_DATA_ROOT = tmp_path / "data"
    site.TOONBENCH_DATA_ROOT.mkdir()
    monkeypatch.setenv("TOONBENCH_SPECS_DIR", str(tmp_path / "specs"))
    queued: list[list[int]] = []
    monkeypatch.setattr(build_uploaded_benchmark, "apply_async", lambda args, queue: queued.append(args))
    return queued


@pytest.fixture
def hostess(django_user_model: type[User]) -> User:
    return django_user_model.objects.create_user("hostess", "host@example.org", PASSWORD, is_staff=True)


def test_host_create_status_and_publish_print_the_build_record(  # type: ignore[no-untyped-def]
    live_server, hosting, hostess, alice, cli_config, tmp_path, capsys
) -> None:
    spec = tmp_path / "shapes.yaml"
    spec.write_bytes(spec_bytes(spec_document()))
    data = write_dataset(tmp_path / "shapes-data")
    login(capsys, live_server.url, "hostess")

    _, created, err = run_json(capsys, "host", "create", str(spec), "--data", str(data))
    benchmark = Benchmark.objects.get(slug="shapes")
    assert created == {"slug": "shapes", "origin": benchmark.origin, "build_state": "queued",
                       "build_message": "waiting for a worker", "published": False}
    assert err == ""
    [args] = hosting

    worker = threading.Thread(target=build_uploaded_benchmark, args=args)
    worker.start()
    try:
        _, built, err = run_json(capsys, "host", "status", "shapes", "--wait")
    finally:
        worker.join(120)
    benchmark.refresh_from_db()
    assert set(built) == BUILD_KEYS
    assert (built["build_state"], built["build_message"], built["published"]) == (
        "built", benchmark.build_message, False)
    assert built["build_message"].startswith("built: 6 test and 6 training items")
    assert err.splitlines()[-1] == f"shapes: built (not published): {benchmark.build_message}"

    login(capsys, live_server.url, "alice")
    assert_failed(run(capsys, "host", "publish", "shapes", "--json"), 3,
                  "HTTP 403: only the hosts of shapes may see its build or publish it")
    assert_failed(run(capsys, "host", "create", str(spec), "--data", str(data), "--json"), 3,
                  "HTTP 403: only the site's staff may upload a benchmark")

    login(capsys, live_server.url, "hostess")
    _, published, _ = run_json(capsys, "host", "publish", "shapes")
    assert published == {**built, "published": True}
    assert Benchmark.objects.get(slug="shapes").is_active
    assert_failed(run(capsys, "host", "status", "no-such-benchmark", "--json"), 4, "HTTP 404: ")


def test_waiting_on_a_failed_build_prints_its_record_and_exits_1(  # type: ignore[no-untyped-def]
    live_server, hosting, hostess, cli_config, tmp_path, capsys
) -> None:
    spec = tmp_path / "broken.yaml"
    spec.write_bytes(spec_bytes(spec_document(slug="broken")))
    data = write_dataset(tmp_path / "broken-data")
    (data / "dog").mkdir()
    (data / "dog" / "0.png").write_bytes((data / "car" / "0.png").read_bytes())
    login(capsys, live_server.url, "hostess")
    run_json(capsys, "host", "create", str(spec), "--data", str(data))
    [args] = hosting
    assert build_uploaded_benchmark(*args) == "failed"

    code, out, err = run(capsys, "host", "status", "broken", "--wait", "--json")
    record = json.loads(out)
    assert code == 1
    assert record == {"slug": "broken", "origin": Benchmark.objects.get(slug="broken").origin, "build_state": "failed",
                      "build_message": Benchmark.objects.get(slug="broken").build_message, "published": False}
    assert "folder 'dog' is not a class of this benchmark" in record["build_message"]
    assert err == f"broken: failed (not published): {record['build_message']}\n"


def test_waiting_on_a_benchmark_the_site_did_not_build_returns_its_record_at_once(  # type: ignore[no-untyped-def]
    live_server, toonnet, hostess, cli_config, capsys
) -> None:
    login(capsys, live_server.url, "hostess")
    _, record, err = run_json(capsys, "host", "status", "toonnet", "--wait")
    assert record == {"slug": "toonnet", "origin": "repository", "build_state": "", "build_message": "",
                      "published": True}
    assert err == "toonnet: not built by the site (published)\n"
