"""The output cap enforced by the kernel, bounded output walks, cleanup whatever the container left.

Hostile containers against the real engine: a file deleted while open, a
sparse file, a fast writer, a 1,100-deep folder chain and a mode-000
folder; and a gzip tarball that inflates a thousandfold.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from evaluator.folders import remove_tree, scratch_job_id, sweep_scratch_folders
from evaluator.jobs import EvaluationRequest, MemoryJobStore, run_evaluation
from evaluator.runners import DockerRunner, ImageUnavailable, RunLimits, RunnerError
from evaluator.runners.base import MAX_OUTPUT_ENTRIES, MEGABYTE, OutputCheck, inspect_output, output_size_reason
from evaluator.runners.capped_output import MOUNT_NEEDS, capped_output, mount_options, mount_refusal
from evaluator.validation import OutputError, check_output_folder

NOBODY = 65534
REPO = Path(__file__).resolve().parents[2]
ENTRY_CAP_REASON = f"/output holds more than {MAX_OUTPUT_ENTRIES} files and folders (the limit is {MAX_OUTPUT_ENTRIES})"


def probe(image: str, name: str) -> DockerRunner:
    return DockerRunner(image, command=["python3", "/opt/probes/probes.py", name])


def free_bytes(path: Path) -> int:
    info = os.statvfs(path)
    return info.f_bavail * info.f_frsize


def written_bytes(log_tail: str) -> int:
    return int(re.search(r"wrote (\d+) bytes", log_tail).group(1))


def make_chain(root: Path, depth: int) -> None:
    """A chain of folders ``depth`` deep, made without long paths or recursion."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(depth):
            os.mkdir("d", dir_fd=fd)
            child = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = child
    finally:
        os.close(fd)


@pytest.mark.docker
@pytest.mark.parametrize("name", ["deleted_open_output", "sparse_output", "fast_writer"])
def test_writing_past_the_cap_stops_at_the_cap_and_ends_output_too_large(
    engine, probes_image, prepared_input, tight_limits, tmp_path, name
):
    before = free_bytes(tmp_path)

    result = probe(probes_image, name).run(prepared_input, tmp_path / "output", tight_limits)

    assert result.status == "output_too_large", result
    assert "over the benchmark's limit of 5 MB (limits.output_mb)" in result.reason
    assert "stopped: No space left on device" in result.log_tail
    assert written_bytes(result.log_tail) <= tight_limits.output_bytes
    assert list((tmp_path / "output").iterdir()) == []
    assert sorted(path.name for path in tmp_path.iterdir()) == ["output"]
    assert free_bytes(tmp_path) > before - 200 * MEGABYTE  # 400 MB were attempted


@pytest.mark.docker
def test_a_deep_chain_and_a_locked_folder_fail_the_job_and_leave_no_scratch_folder(
    engine, probes_image, tiny_toonnet, tmp_path
):
    work_root = tmp_path / "jobs"
    store = MemoryJobStore()
    request = EvaluationRequest(
        job_id="deep-1", slug="toonnet", kind="image", data_root=tiny_toonnet.folder.parent, work_root=work_root
    )

    status = run_evaluation(request, store, probe(probes_image, "deep_output"))

    assert status == "failed"
    assert store.fields["deep-1"]["reason"] == "folders are nested more than 32 deep in the output"
    assert "built the chain" in store.logs["deep-1"]
    assert list(work_root.iterdir()) == []


def test_output_walks_are_bounded_and_iterative(tmp_path):
    output = tmp_path / "output"
    output.mkdir()
    make_chain(output, 1100)

    check = inspect_output(output, 10 * MEGABYTE)

    assert check.problem == "folders are nested more than 32 deep in the output"
    with pytest.raises(OutputError, match="^folders are nested more than 32 deep in the output$"):
        check_output_folder(output, 10)
    remove_tree(output)  # pytest's own cleanup recurses


def test_cleanup_removes_deep_chains_locked_folders_and_links(tmp_path):
    scratch = tmp_path / "toonbench-job-7-abcd1234"
    scratch.mkdir()
    make_chain(scratch, 1100)
    (scratch / "locked").mkdir()
    (scratch / "locked" / "inside").write_text("x")
    (scratch / "locked").chmod(0)
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    (scratch / "link").symlink_to(outside)

    remove_tree(scratch)

    assert list(tmp_path.iterdir()) == [outside] and outside.read_text() == "keep me"


def as_nobody(action: Callable[[], str]) -> str:
    """Run ``action`` in a forked child that dropped to user 65534; returns what it returned."""
    if os.geteuid() != 0:
        pytest.skip("needs root to act as another user")
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            os.write(write_end, action().encode())
        except BaseException as exc:
            os.write(write_end, f"{type(exc).__name__}: {exc}".encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as answer:
        text = answer.read()
    os.waitpid(pid, 0)
    return text


@pytest.fixture()
def shared_folder() -> Iterator[Path]:
    """A folder user 65534 can write to (pytest's own tmp folders are root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="toonbench-cap-test-"))
    folder.chmod(0o777)
    yield folder
    remove_tree(folder)


def test_cleanup_as_an_unprivileged_user_removes_its_own_locked_folders(shared_folder):
    root = shared_folder / "scratch"

    def build_and_remove() -> str:
        root.mkdir()
        make_chain(root, 1100)
        (root / "locked").mkdir()
        (root / "locked" / "f").write_text("x")
        (root / "locked").chmod(0)
        (root / "a" / "b").mkdir(parents=True)
        (root / "a").chmod(0o111)
        remove_tree(root)
        return str(root.exists())

    assert as_nobody(build_and_remove) == "False"


def test_a_worker_that_cannot_mount_fails_with_what_it_needs(shared_folder, tight_limits):
    def try_to_mount() -> str:
        try:
            with capped_output(shared_folder, tight_limits):
                return "mounted"
        except RunnerError as exc:
            return str(exc)

    assert as_nobody(try_to_mount) == MOUNT_NEEDS
    assert "CAP_SYS_ADMIN" in MOUNT_NEEDS and "platform/DEPLOY.md" in MOUNT_NEEDS
    assert list(shared_folder.iterdir()) == []


def test_the_sweep_removes_scratch_folders_of_jobs_that_are_not_running(tmp_path):
    running, finished = tmp_path / "toonbench-job-12-abcd1234", tmp_path / "toonbench-job-13-efgh5678"
    unrelated = tmp_path / "not-a-job"
    for folder in (running, finished, unrelated):
        folder.mkdir()
    make_chain(finished, 1100)
    (finished / "locked").mkdir()
    (finished / "locked").chmod(0)

    removed = sweep_scratch_folders(tmp_path, running_job_ids=["12"])

    assert removed == ["toonbench-job-13-efgh5678"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["not-a-job", "toonbench-job-12-abcd1234"]
    assert scratch_job_id("toonbench-job-job-1-abcd_123") == "job-1"
    assert sweep_scratch_folders(tmp_path, [], min_age_s=3600) == []


@pytest.mark.docker
def test_the_sweep_unmounts_an_output_file_system_left_behind(engine, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to mount")
    scratch = tmp_path / "toonbench-job-99-abcd1234"
    (scratch / ".output-x").mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(scratch / ".output-x")], check=True)
    (scratch / ".output-x" / "left.bin").write_bytes(b"x" * 1000)

    assert sweep_scratch_folders(tmp_path, []) == [scratch.name]
    assert list(tmp_path.iterdir()) == []
    assert str(scratch) not in Path("/proc/self/mountinfo").read_text()


def gzip_bomb(path: Path, inflated_mb: int) -> Path:
    """A gzip tarball of a few hundred KB holding one member of ``inflated_mb`` MB of zeros."""
    with gzip.open(path, "wb", compresslevel=9) as packed, tarfile.open(fileobj=packed, mode="w|") as archive:
        member = tarfile.TarInfo("layer/layer.tar")
        member.size = inflated_mb * MEGABYTE
        archive.addfile(member, io.BufferedReader(ZeroReader(member.size)))
    return path


class ZeroReader(io.RawIOBase):
    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        count = min(len(buffer), self.left)
        buffer[:count] = bytes(count)
        self.left -= count
        return count


@pytest.mark.docker
def test_a_gzip_tarball_bomb_is_refused_with_a_one_line_reason(engine, prepared_input, tight_limits, tmp_path):
    bomb = gzip_bomb(tmp_path / "model.tar.gz", inflated_mb=400)
    images_before = {image.id for image in engine.images.list(all=True)}

    with pytest.raises(ImageUnavailable) as refused:
        DockerRunner(tarball=bomb).run(prepared_input, tmp_path / "output", tight_limits)

    assert bomb.stat().st_size < MEGABYTE
    assert str(refused.value) == (
        "model.tar.gz: the image tarball unpacks to more than 256 MB (limits: 20480 MB, TOONBENCH_MAX_IMAGE_MB, "
        "and 100 times the uploaded file's size); refusing it"
    )
    assert {image.id for image in engine.images.list(all=True)} == images_before


@pytest.mark.docker
def test_the_unpacked_size_cap_is_configurable(engine, prepared_input, tight_limits, tmp_path):
    bomb = gzip_bomb(tmp_path / "model.tar.gz", inflated_mb=40)

    with pytest.raises(ImageUnavailable, match=r"unpacks to more than 16 MB \(limits: 16 MB"):
        DockerRunner(tarball=bomb, max_image_mb=16).run(prepared_input, tmp_path / "output", tight_limits)


def test_limits_are_whole_bytes_on_the_mount(tight_limits):
    assert mount_options(tight_limits) == "size=5242880,nr_inodes=200001,mode=0777"
    assert mount_options(RunLimits(1, 1, 1, 8, 0, 0.5)).startswith("size=524288,")


@pytest.mark.docker
@pytest.mark.slow
def test_a_flood_of_empty_files_is_stopped_by_the_entry_cap_and_told_which_limit(
    engine, probes_image, prepared_input, tmp_path
):
    limits = RunLimits(timeout_s=300, memory_gb=1, cpus=1, pids=64, gpus=0, output_mb=20)
    flood = f"for i in range({MAX_OUTPUT_ENTRIES + 1000}):\n    open(f'/output/f{{i}}', 'w').close()"

    result = DockerRunner(probes_image, command=["python3", "-c", flood]).run(prepared_input, tmp_path / "output", limits)

    assert result.status == "output_too_large", result
    assert result.reason == ENTRY_CAP_REASON
    assert list((tmp_path / "output").iterdir()) == []


def test_the_output_cap_reasons_name_the_limit_that_was_hit():
    over_bytes = OutputCheck(21 * MEGABYTE, 10, None)
    assert output_size_reason("/output", over_bytes, 20) == (
        "/output holds 21.0 MB, over the benchmark's limit of 20 MB (limits.output_mb)"
    )
    assert output_size_reason("/output", OutputCheck(0, MAX_OUTPUT_ENTRIES + 1, None), 20) == ENTRY_CAP_REASON
    assert output_size_reason("/output", OutputCheck(0, MAX_OUTPUT_ENTRIES, None), 20, entry_cap_hit=True) == (
        ENTRY_CAP_REASON
    )


MOUNT_AS_WORKER = """
import json, os, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from evaluator.runners.base import RunLimits, RunnerError
from evaluator.runners.capped_output import capped_output
try:
    with capped_output(Path(sys.argv[2]), RunLimits(10, 0.25, 1, 64, 0, 5)) as output:
        info = os.statvfs(output)
        mounted = [line.split() for line in open("/proc/self/mountinfo") if line.split()[4] == str(output)]
        print(json.dumps({"uid": os.getuid(), "bytes": info.f_blocks * info.f_frsize, "entries": info.f_files,
                          "type": mounted[0][-3], "flags": mounted[0][5]}))
except RunnerError as exc:
    print(json.dumps({"uid": os.getuid(), "refused": str(exc)}))
"""


def as_worker(folder: Path, *capabilities: str) -> subprocess.CompletedProcess[str]:
    """Run MOUNT_AS_WORKER as user 65534 holding only ``capabilities`` (setpriv, from util-linux)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to start a process as another user")
    caps = ",".join(f"+{name}" for name in capabilities) or "-all"
    command = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", f"--inh-caps={caps}",
               f"--ambient-caps={caps}", sys.executable, "-c", MOUNT_AS_WORKER, str(REPO), str(folder)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_a_non_root_worker_with_cap_sys_admin_mounts_the_capped_output(shared_folder):
    binary = subprocess.run(
        ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--inh-caps=+sys_admin",
         "--ambient-caps=+sys_admin", "mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(shared_folder)],
        capture_output=True, text=True, timeout=60,
    )
    assert binary.returncode != 0 and "must be superuser" in binary.stderr  # why the binary is not used

    done = as_worker(shared_folder, "sys_admin")

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "uid": NOBODY, "bytes": 5 * MEGABYTE, "entries": MAX_OUTPUT_ENTRIES + 1, "type": "tmpfs",
        "flags": "rw,nosuid,nodev,noexec,relatime",
    }
    assert list(shared_folder.iterdir()) == []
    assert str(shared_folder) not in Path("/proc/self/mountinfo").read_text()


def test_a_non_root_worker_without_the_capability_gets_the_one_line_reason(shared_folder):
    done = as_worker(shared_folder)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"uid": NOBODY, "refused": MOUNT_NEEDS}
    assert "\n" not in MOUNT_NEEDS and list(shared_folder.iterdir()) == []
    assert mount_refusal(19) == (
        "the worker cannot mount the size-capped /output file system (ENODEV: No such device); "
        "see platform/DEPLOY.md"
    )
