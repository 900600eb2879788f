"""Hostile containers against the real engine: each tries to break a rule of the sandbox."""

from __future__ import annotations

import ipaddress
import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from evaluator.runners import DockerRunner, RunLimits, RunResult

pytestmark = pytest.mark.docker

TRUTH_KEYS = {"label", "labels", "identity", "identities", "pairs", "probes", "gallery", "roles", "domain", "split"}


def run_probe(image: str, probe: str, input_dir: Path, output_dir: Path, limits: RunLimits) -> RunResult:
    return DockerRunner(image, command=["python3", "/opt/probes/probes.py", probe]).run(input_dir, output_dir, limits)


def read_report(output_dir: Path) -> dict[str, Any]:
    return json.loads((output_dir / "report.json").read_text())


def bridge_gateway(engine: Any) -> str:
    """The bridge network's gateway; Debian's Docker 20.10 lists only the subnet, whose first host it is."""
    config = engine.networks.get("bridge").attrs["IPAM"]["Config"][0]
    if config.get("Gateway"):
        return str(config["Gateway"])
    return str(next(ipaddress.ip_network(config["Subnet"], strict=False).hosts()))


def test_the_gateway_is_the_subnets_first_host_when_the_engine_omits_it():
    class Network:
        attrs = {"IPAM": {"Config": [{"Subnet": "172.17.0.0/16"}]}}

    class Engine:
        networks = type("Networks", (), {"get": staticmethod(lambda name: Network())})

    assert bridge_gateway(Engine()) == "172.17.0.1"


def test_it_gives_the_container_no_network(engine, probes_image, prepared_input, tight_limits, tmp_path):
    gateway = bridge_gateway(engine)
    input_dir = tmp_path / "input"
    shutil.copytree(prepared_input, input_dir)
    (input_dir / "probe_targets.json").write_text(json.dumps([[gateway, 2375], [gateway, 53]]))

    result = run_probe(probes_image, "network", input_dir, tmp_path / "output", tight_limits)

    assert result.status == "finished", result.log_tail
    report = read_report(tmp_path / "output")
    assert f"{gateway}:2375" in report["connections"] and "1.1.1.1:53" in report["connections"]
    assert all(outcome != "ok" for outcome in report["connections"].values()), report
    assert report["interfaces"] == ["lo"]
    assert report["dns"] != "ok"


def test_it_keeps_input_and_root_read_only(engine, probes_image, prepared_input, tight_limits, tmp_path):
    before = sorted(p.name for p in prepared_input.rglob("*"))

    result = run_probe(probes_image, "write", prepared_input, tmp_path / "output", tight_limits)

    assert result.status == "finished", result.log_tail
    report = read_report(tmp_path / "output")
    blocked = {path: outcome for path, outcome in report.items() if path != "/tmp/probe"}
    refusals = ("Read-only file system", "Permission denied")
    assert all(any(refusal in outcome for refusal in refusals) for outcome in blocked.values()), report
    assert report["/tmp/probe"] == "ok"
    assert sorted(p.name for p in prepared_input.rglob("*")) == before


def test_it_shows_the_container_no_truth(engine, probes_image, tiny_toonnet, prepared_input, tight_limits, tmp_path):
    result = run_probe(probes_image, "scan_input", prepared_input, tmp_path / "output", tight_limits)

    assert result.status == "finished", result.log_tail
    report = read_report(tmp_path / "output")
    assert report["unreadable"] == []
    assert TRUTH_KEYS.isdisjoint(report["keys"]), report["keys"]
    test_ids = sorted(item.id for item in tiny_toonnet.test_items())
    assert report["files"] == sorted(["manifest.json"] + [f"images/{item_id}.png" for item_id in test_ids])


def test_it_runs_the_container_as_an_unprivileged_user(engine, probes_image, prepared_input, tight_limits, tmp_path):
    result = DockerRunner(probes_image).run(prepared_input, tmp_path / "output", tight_limits)

    assert result.status == "finished", result.log_tail
    report = read_report(tmp_path / "output")
    assert (report["uid"], report["gid"]) == (65534, 65534)
    assert int(report["cap_eff"], 16) == 0 and int(report["cap_bnd"], 16) == 0
    assert report["no_new_privs"] == "1"


def test_it_contains_a_fork_bomb_with_the_pids_limit(engine, probes_image, prepared_input, tight_limits, tmp_path):
    result = run_probe(probes_image, "fork_bomb", prepared_input, tmp_path / "output", tight_limits)

    assert result.status == "failed" and result.exit_code == 3, result
    report = read_report(tmp_path / "output")
    assert report["children"] < tight_limits.pids
    assert "Resource temporarily unavailable" in report["failure"]
    assert subprocess.run(["true"], timeout=10).returncode == 0


def test_it_ends_a_run_past_the_memory_limit_as_out_of_memory(
    engine, probes_image, prepared_input, tight_limits, tmp_path
):
    result = run_probe(probes_image, "allocate", prepared_input, tmp_path / "output", tight_limits)

    assert result.status == "out_of_memory", result
    assert "0.25 GB" in result.reason


def test_it_stops_a_run_at_the_wall_clock_limit(engine, probes_image, prepared_input, tmp_path):
    limits = RunLimits(timeout_s=3, memory_gb=0.25, cpus=1, pids=64, gpus=0, output_mb=5)
    started = time.monotonic()

    result = run_probe(probes_image, "sleep", prepared_input, tmp_path / "output", limits)

    assert result.status == "timed_out", result
    assert limits.timeout_s <= result.duration_s < limits.timeout_s + 3
    assert time.monotonic() - started < limits.timeout_s + 15
    assert "sleeping" in result.log_tail


def test_it_rejects_output_past_the_cap(engine, probes_image, prepared_input, tight_limits, tmp_path):
    result = run_probe(probes_image, "big_output", prepared_input, tmp_path / "output", tight_limits)

    assert result.status == "output_too_large", result
    assert "5 MB" in result.reason
    assert list((tmp_path / "output").iterdir()) == []
    assert result.duration_s < 10


@pytest.mark.parametrize("probe", ["symlink_output", "fifo_output"])
def test_it_rejects_output_that_is_not_plain_files(engine, probes_image, prepared_input, tight_limits, tmp_path, probe):
    result = run_probe(probes_image, probe, prepared_input, tmp_path / "output", tight_limits)

    assert result.status == "failed", result
    assert "scores.npy" in result.reason
    assert list((tmp_path / "output").iterdir()) == []
