"""DockerRunner against the real engine: results, logs, cancel, heartbeat, images by tarball, errors."""

from __future__ import annotations

import io
import threading
import time
import uuid

import docker.errors
import pytest

from evaluator.runners import (
    CONTAINER_LABEL,
    DockerRunner,
    EngineUnavailable,
    ImageUnavailable,
    RunLimits,
    make_runner,
)

pytestmark = pytest.mark.docker


def probe_runner(image: str, probe: str, **options) -> DockerRunner:
    return DockerRunner(image, command=["python3", "/opt/probes/probes.py", probe], **options)


def test_a_well_behaved_submission_finishes_and_scores(
    engine, uniform_scores_image, tiny_toonnet, prepared_input, tight_limits, tmp_path
):
    from evaluator.scoring import score_outputs

    result = make_runner("docker", image=uniform_scores_image).run(prepared_input, tmp_path / "output", tight_limits)

    assert result.status == "finished", result
    assert result.exit_code == 0 and result.reason == ""
    assert result.image_digest == engine.images.get(uniform_scores_image).id
    test_items = sorted(tiny_toonnet.test_items(), key=lambda item: item.id)
    classes = tiny_toonnet.spec.classes
    assert f"wrote scores for {len(test_items)} items and {len(classes)} classes" in result.log_tail
    # Equal scores: every other class ties the true one and ties never help, so nothing is in the top 3.
    scored = score_outputs(tiny_toonnet, tmp_path / "output", resamples=10)
    assert scored.metrics["top1_error"] == 1.0
    assert scored.metrics["top3_error"] == 1.0


def test_it_reports_a_non_zero_exit_with_the_log_tail(engine, probes_image, prepared_input, tight_limits, tmp_path):
    result = probe_runner(probes_image, "exit_seven").run(prepared_input, tmp_path / "output", tight_limits)

    assert result.status == "failed"
    assert result.exit_code == 7
    assert "status 7" in result.reason
    assert "something went wrong on purpose" in result.log_tail


def test_it_keeps_only_the_tail_of_megabytes_of_logs(engine, probes_image, prepared_input, tmp_path):
    limits = RunLimits(timeout_s=20, memory_gb=0.25, cpus=1, pids=64, gpus=0, output_mb=5, log_tail_bytes=4096)

    result = probe_runner(probes_image, "flood_logs").run(prepared_input, tmp_path / "output", limits)

    assert result.status == "finished", result.reason
    assert len(result.log_tail.encode()) <= 4096
    assert result.log_tail.endswith("last line of the log\n")
    omitted = int(result.log_tail.split("[... ")[1].split(" ")[0])
    assert omitted > 4_000_000  # 50,000 lines of 100 bytes were printed
    assert (tmp_path / "output" / "report.json").exists()


def test_cancelling_stops_the_container_and_removes_it(engine, probes_image, prepared_input, tight_limits, tmp_path):
    cancel = threading.Event()
    threading.Timer(2.0, cancel.set).start()
    started = time.monotonic()

    result = probe_runner(probes_image, "sleep").run(prepared_input, tmp_path / "output", tight_limits, cancel=cancel)

    assert result.status == "cancelled"
    assert time.monotonic() - started < tight_limits.timeout_s
    assert engine.containers.list(all=True, filters={"label": CONTAINER_LABEL}) == []


def test_it_calls_the_heartbeat_while_the_container_runs(engine, probes_image, prepared_input, tmp_path):
    limits = RunLimits(timeout_s=3, memory_gb=0.25, cpus=1, pids=64, gpus=0, output_mb=5)
    running_at_beat: list[int] = []

    def heartbeat() -> None:
        running = engine.containers.list(filters={"label": CONTAINER_LABEL, "status": "running"})
        running_at_beat.append(len(running))

    result = probe_runner(probes_image, "sleep", heartbeat_interval_s=0.5).run(
        prepared_input, tmp_path / "output", limits, heartbeat=heartbeat
    )

    assert result.status == "timed_out"
    assert running_at_beat.count(1) >= 4  # beats come while the job's container runs


def test_it_runs_an_image_loaded_from_a_docker_save_tarball(
    engine, probes_image, prepared_input, tight_limits, tmp_path
):
    tarball = tmp_path / "submission.tar"
    with open(tarball, "wb") as handle:
        for chunk in engine.images.get(probes_image).save(named=True):
            handle.write(chunk)

    result = DockerRunner(tarball=tarball).run(prepared_input, tmp_path / "output", tight_limits)

    assert result.status == "finished", result
    assert result.image_digest == engine.images.get(probes_image).id


def test_a_loaded_tarball_keeps_no_name_and_is_removed_after_the_run(
    engine, probes_image, prepared_input, tight_limits, tmp_path
):
    claimed_name = "toonbench-test/claimed-name:latest"
    dockerfile = f"FROM {probes_image}\nLABEL org.toonbench.test-unique={uuid.uuid4().hex}\n"
    image, _ = engine.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=claimed_name, rm=True)
    tarball = tmp_path / "submission.tar"
    with open(tarball, "wb") as handle:
        for chunk in engine.images.get(claimed_name).save(named=claimed_name):
            handle.write(chunk)
    engine.images.remove(claimed_name)

    result = DockerRunner(tarball=tarball).run(prepared_input, tmp_path / "output", tight_limits)

    assert result.status == "finished", result
    assert result.image_digest == image.id
    assert engine.images.list(name="toonbench-test/claimed-name") == []
    with pytest.raises(docker.errors.ImageNotFound):
        engine.images.get(image.id)


def test_it_refuses_a_tarball_over_the_size_cap(engine, tmp_path, prepared_input, tight_limits):
    tarball = tmp_path / "huge.tar"
    tarball.write_bytes(b"\0" * 2 * 1024 * 1024)

    with pytest.raises(ImageUnavailable, match="over the limit of 1 MB"):
        DockerRunner(tarball=tarball, max_tarball_mb=1).run(prepared_input, tmp_path / "output", tight_limits)


def test_it_refuses_a_tarball_that_is_not_an_image(engine, tmp_path, prepared_input, tight_limits):
    tarball = tmp_path / "garbage.tar"
    tarball.write_bytes(b"this is not a tar archive" * 100)

    with pytest.raises(ImageUnavailable, match="garbage.tar"):
        DockerRunner(tarball=tarball).run(prepared_input, tmp_path / "output", tight_limits)


def test_it_names_a_missing_image(engine, prepared_input, tight_limits, tmp_path):
    with pytest.raises(ImageUnavailable, match="toonbench-test/no-such-image:1"):
        DockerRunner("toonbench-test/no-such-image:1").run(prepared_input, tmp_path / "output", tight_limits)


def test_it_says_when_the_engine_is_unreachable(monkeypatch, prepared_input, tight_limits, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")

    with pytest.raises(EngineUnavailable, match="does not answer"):
        DockerRunner("toonbench/python-numpy:base").run(prepared_input, tmp_path / "output", tight_limits)


def test_it_requests_gpus_only_when_asked_and_present(tmp_path):
    asked = RunLimits(timeout_s=1, memory_gb=1, cpus=1, pids=8, gpus=1, output_mb=1)
    not_asked = RunLimits(timeout_s=1, memory_gb=1, cpus=1, pids=8, gpus=0, output_mb=1)

    def requests(gpu_available: bool, limits: RunLimits) -> list:
        runner = DockerRunner("any", client=object(), gpu_available=gpu_available)
        return runner.container_options(tmp_path, tmp_path, limits).get("device_requests", [])

    assert [r["Count"] for r in requests(True, asked)] == [1]
    assert requests(False, asked) == []
    assert requests(True, not_asked) == []


def test_it_refuses_a_non_empty_output_folder(engine, probes_image, prepared_input, tight_limits, tmp_path):
    (tmp_path / "output").mkdir()
    (tmp_path / "output" / "old.npy").write_bytes(b"stale")

    with pytest.raises(ValueError, match="must be empty"):
        DockerRunner(probes_image).run(prepared_input, tmp_path / "output", tight_limits)


def test_an_image_whose_command_cannot_start_fails_with_the_reason(
    engine, probes_image, prepared_input, tight_limits, tmp_path
):
    runner = DockerRunner(probes_image, command=["/no/such/program"])

    result = runner.run(prepared_input, tmp_path / "output", tight_limits)


    assert result.status == "failed"
    assert "could not start" in result.reason and "/no/such/program" in result.reason
