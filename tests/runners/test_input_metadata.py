"""No file attribute of ``/input`` says anything about a label.

A real dataset is read class by class, so the built images of one class were
written one after another: their inodes, times and data blocks follow the
spec's class order. An ``/input`` that hard-linked those files let a
submission that never looks at an image sort by inode and read the classes
off in blocks. Each attack runs against the ``/input`` the evaluator
prepares and, as a control that shows the attack has teeth, against a
hard-linked folder laid out the way ``/input`` used to be.
"""

from __future__ import annotations

import json
import math
import os
import stat
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from datasets.build import BuiltBenchmark, build_benchmark
from datasets.spec import load_spec
from evaluator.contract import INPUT_TIME_NS, container_manifest, input_image_name, input_items, prepare_input
from evaluator.runners import DockerRunner, RunLimits
from evaluator.scoring import score_outputs

SECRET = "input-metadata-test-secret-" + "9a" * 16
PER_CLASS = 20
ATTACK_SCRIPT = Path(__file__).resolve().parent / "scripts" / "metadata_attack.py"
BASE_IMAGE = os.environ.get("TOONBENCH_BASE_IMAGE", "toonbench/python-numpy:base")
CRITICAL_PNG_CHUNKS = {b"IHDR", b"IDAT", b"IEND"}


# ---------------------------------------------------------------- a real layout, written class by class


def png_with_text(image: np.ndarray, text: str) -> bytes:
    """A PNG whose tEXt chunk names the class and the original file, as some tools write."""
    encoded = cv2.imencode(".png", image)[1].tobytes()
    body = b"Comment\x00" + text.encode()
    chunk = len(body).to_bytes(4, "big") + b"tEXt" + body + zlib.crc32(b"tEXt" + body).to_bytes(4, "big")
    header_end = 8 + 25  # signature, then the IHDR chunk
    return encoded[:header_end] + chunk + encoded[header_end:]


def jpeg_with_exif(image: np.ndarray, text: str) -> bytes:
    """A JPEG with an EXIF segment and a comment naming the class and the original file."""
    encoded = cv2.imencode(".jpg", image)[1].tobytes()
    exif = b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00"
    comment = text.encode()
    segments = b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif
    segments += b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
    return encoded[:2] + segments + encoded[2:]


def png_chunks(data: bytes) -> list[bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset = [], 8
    while offset < len(data):
        length = int.from_bytes(data[offset:offset + 4], "big")
        chunks.append(data[offset + 4:offset + 8])
        offset += 12 + length
    return chunks


@pytest.fixture(scope="module")
def real_build(tmp_path_factory: pytest.TempPathFactory) -> BuiltBenchmark:
    """A server build of toonnet from a real-layout tree written class by class, in spec order."""
    source = tmp_path_factory.mktemp("real") / "toonnet"
    rng = np.random.default_rng(0)
    for class_name in load_spec("toonnet").classes:
        for index in range(PER_CLASS):
            image = rng.integers(0, 256, size=(16, 16, 3), dtype=np.uint8)
            path = source / class_name / f"{class_name} {index:03d}.{'png' if index % 2 else 'jpg'}"
            path.parent.mkdir(parents=True, exist_ok=True)
            text = f"{class_name}/{path.name}"
            path.write_bytes(png_with_text(image, text) if index % 2 else jpeg_with_exif(image, text))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TOONBENCH_DATA", str(source.parent))
        built = build_benchmark("toonnet", tmp_path_factory.mktemp("data"), profile="tiny", source="real", secret=SECRET)
    assert built.source == "real" and len(built.test_items()) == 6 * 12  # round(20 * 0.3) per class
    return built


def hard_linked_input(built: BuiltBenchmark, dest: Path) -> Path:
    """``/input`` as it used to be made when data and jobs share a file system: links to the built files."""
    (dest / "images").mkdir(parents=True)
    for item in input_items(built):
        os.link(built.folder / item.path, dest / input_image_name(item.id))
    (dest / "manifest.json").write_text(json.dumps(container_manifest(built)))
    return dest


def attack_accuracies(built: BuiltBenchmark, output: Path) -> dict[str, float]:
    """Top-1 accuracy of every guess the attack wrote, scored by the evaluator."""
    guesses = sorted((output / "attacks").iterdir())
    assert len(guesses) == 6, guesses
    return {guess.name: 1.0 - score_outputs(built, guess, resamples=10).metrics["top1_error"] for guess in guesses}


def chance_ceiling(built: BuiltBenchmark) -> float:
    """The most a guess that knows nothing reaches: 1/C plus four standard deviations over N items."""
    items, classes = len(input_items(built)), len(built.spec.classes)
    p = 1 / classes
    return p + 4 * math.sqrt(p * (1 - p) / items)


def run_attack_here(input_dir: Path, output: Path) -> None:
    output.mkdir()
    env = {**os.environ, "TOONBENCH_INPUT": str(input_dir), "TOONBENCH_OUTPUT": str(output)}
    done = subprocess.run([sys.executable, str(ATTACK_SCRIPT)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


# ---------------------------------------------------------------- what /input looks like


def test_built_images_carry_no_text_exif_or_time_chunk(real_build: BuiltBenchmark) -> None:
    for item in real_build.items:
        data = (real_build.folder / item.path).read_bytes()
        assert set(png_chunks(data)) == CRITICAL_PNG_CHUNKS, item.path
        assert item.label.encode() not in data and b"Exif" not in data


def test_every_input_file_is_a_new_file_with_the_same_mode_and_times(real_build: BuiltBenchmark, tmp_path: Path) -> None:
    dest = prepare_input(real_build, tmp_path / "input")
    files = [dest / "manifest.json"] + [dest / input_image_name(item.id) for item in input_items(real_build)]
    folders = [dest, dest / "images"]
    # looked up by name, not listed: listing a folder or reading a file here would move its access time
    for path in files + folders:
        info = path.lstat()
        assert (info.st_mtime_ns, info.st_atime_ns) == (INPUT_TIME_NS, INPUT_TIME_NS), path
    built_inodes = {(real_build.folder / item.path).stat().st_ino for item in real_build.items}
    for path in files:
        info = path.lstat()
        assert stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o444, path
        assert info.st_nlink == 1 and info.st_ino not in built_inodes, path
    assert {stat.S_IMODE(path.stat().st_mode) for path in folders} == {0o755}
    assert sorted(dest.rglob("*")) == sorted(files + folders[1:])
    for item in input_items(real_build):
        assert (dest / input_image_name(item.id)).read_bytes() == (real_build.folder / item.path).read_bytes()


def test_images_are_written_in_manifest_order(real_build: BuiltBenchmark, tmp_path: Path) -> None:
    dest = prepare_input(real_build, tmp_path / "input")
    ids = [entry["id"] for entry in json.loads((dest / "manifest.json").read_text())["items"]]
    assert ids == sorted(ids)
    change_times = [(dest / input_image_name(item_id)).stat().st_ctime_ns for item_id in ids]
    assert change_times == sorted(change_times)


def test_a_second_prepare_starts_from_an_empty_folder(real_build: BuiltBenchmark, tmp_path: Path) -> None:
    first = prepare_input(real_build, tmp_path / "input")
    (first / "images" / "left-behind.png").write_bytes(b"from an earlier job")
    (first / "images" / "left-behind.png").chmod(0o000)
    second = prepare_input(real_build, tmp_path / "input")
    names = sorted(path.name for path in (second / "images").iterdir())
    assert names == sorted(f"{item.id}.png" for item in input_items(real_build))


# ---------------------------------------------------------------- the attack, on the host


def test_sorting_input_by_inode_or_time_reads_off_no_class(real_build: BuiltBenchmark, tmp_path: Path) -> None:
    run_attack_here(prepare_input(real_build, tmp_path / "input"), tmp_path / "output")
    accuracies = attack_accuracies(real_build, tmp_path / "output")
    assert max(accuracies.values()) <= chance_ceiling(real_build), accuracies


def test_control_the_same_attack_reads_the_classes_off_hard_links(real_build: BuiltBenchmark, tmp_path: Path) -> None:
    run_attack_here(hard_linked_input(real_build, tmp_path / "linked"), tmp_path / "output")
    accuracies = attack_accuracies(real_build, tmp_path / "output")
    assert accuracies["st_ino-asc"] >= 0.9, accuracies


# ---------------------------------------------------------------- the attack, as a submission in the sandbox


def run_attack_in_container(input_dir: Path, output: Path, built: BuiltBenchmark) -> None:
    limits = RunLimits.from_spec(built.spec.limits, cpus=min(built.spec.limits.cpus, os.cpu_count() or 1), gpus=0)
    runner = DockerRunner(BASE_IMAGE, command=["python3", "-c", ATTACK_SCRIPT.read_text()])
    result = runner.run(input_dir, output, limits)
    assert result.status == "finished", (result.reason, result.log_tail)
    assert f"guessed {len(input_items(built))} items" in result.log_tail


@pytest.mark.docker
def test_a_container_sorting_input_metadata_scores_at_chance(engine, real_build: BuiltBenchmark, tmp_path: Path) -> None:
    output = tmp_path / "output"
    run_attack_in_container(prepare_input(real_build, tmp_path / "input"), output, real_build)
    assert 1.0 - score_outputs(real_build, output, resamples=10).metrics["top1_error"] <= chance_ceiling(real_build)
    accuracies = attack_accuracies(real_build, output)
    assert max(accuracies.values()) <= chance_ceiling(real_build), accuracies


@pytest.mark.docker
def test_control_a_container_reads_the_classes_off_a_hard_linked_input(engine, real_build: BuiltBenchmark, tmp_path: Path) -> None:
    output = tmp_path / "output"
    run_attack_in_container(hard_linked_input(real_build, tmp_path / "linked"), output, real_build)
    accuracies = attack_accuracies(real_build, output)
    assert accuracies["st_ino-asc"] >= 0.9, accuracies


def test_prepare_refuses_to_wipe_a_folder_that_is_not_an_earlier_input(real_build: BuiltBenchmark, tmp_path: Path) -> None:
    (tmp_path / "mine" / "notes.txt").parent.mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match=r"mine: exists and is not an earlier input folder"):
        prepare_input(real_build, tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
