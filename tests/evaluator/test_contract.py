"""The /input folder: test items only, in manifest order, and never any truth."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from PIL import Image

from datasets.build import BuiltBenchmark
from datasets.manifest import ManifestItem, Roles
from datasets.spec_models import BenchmarkSpec
from evaluator.contract import container_manifest, expected_outputs, prepare_input

TRUTH_KEYS = {"label", "identity", "domain", "split", "sha256", "pairs", "probes", "gallery", "roles"}


def make_spec(task: str) -> BenchmarkSpec:
    metric = {"classification": "topk_error", "identification_verification": "cmc_rank", "translation": "fid"}[task]
    return BenchmarkSpec.model_validate({
        "slug": f"toy-{task[:5]}", "title": "toy", "version": 1, "task": task,
        "classes": ["zebra", "ant"] if task == "classification" else [],
        "dataset": {"adapter": "none", "synthetic": {"generator": "none"}},
        "split": {"method": "none"},
        "metrics": [{"name": "m", "fn": metric, "higher_is_better": False}],
        "leaderboard": {"rank_by": "m"},
        "limits": {"output_mb": 7},
    })


def make_built(folder: Path, task: str) -> BuiltBenchmark:
    """Six items, ids out of order on purpose; items 0-1 train, 2-5 test; even items photos."""
    (folder / "images").mkdir(parents=True)
    ids = ["f3", "a1", "c9", "b2", "e5", "d4"]
    items = []
    for index, item_id in enumerate(ids):
        Image.new("RGB", (8, 8), (index * 30, 0, 0)).save(folder / "images" / f"{item_id}.png")
        items.append(ManifestItem(
            item_id, f"images/{item_id}.png", sha256="0" * 64, split="train" if index < 2 else "test",
            label=["zebra", "ant"][index % 2] if task == "classification" else None,
            identity=str(index % 3) if task == "identification_verification" else None,
            box=(1, 2, 6, 7) if task == "identification_verification" else None,
            domain=("photo" if index % 2 == 0 else "cartoon") if task == "translation" else None,
        ))
    items.sort(key=lambda item: item.id)
    roles = None
    if task == "identification_verification":
        roles = Roles(probes=["c9"], gallery=["b2", "e5"], pairs=[("c9", "d4", False)])
    return BuiltBenchmark(folder, make_spec(task), items, roles, "a" * 64, "synthetic")


def walk_keys(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | set().union(*(walk_keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(walk_keys(v) for v in value)) if value else set()
    return set()


@pytest.mark.parametrize("task", ["classification", "identification_verification", "translation"])
def test_the_manifest_carries_no_truth(tmp_path, task):
    document = container_manifest(make_built(tmp_path, task))
    assert not walk_keys(document) & TRUTH_KEYS
    assert set(document) >= {"task", "slug", "protocol_hash", "items"}


def test_classification_inputs_are_the_test_items_sorted_by_id_with_classes_in_column_order(tmp_path):
    document = container_manifest(make_built(tmp_path, "classification"))
    assert document["items"] == [{"id": i, "path": f"images/{i}.png"} for i in ["b2", "c9", "d4", "e5"]]
    assert document["classes"] == ["zebra", "ant"]
    assert "zebra" not in json.dumps(document["items"]) and "ant" not in json.dumps(document["items"])


def test_face_inputs_carry_their_boxes(tmp_path):
    document = container_manifest(make_built(tmp_path, "identification_verification"))
    assert [entry["id"] for entry in document["items"]] == ["b2", "c9", "d4", "e5"]
    assert all(entry["box"] == [1, 2, 6, 7] for entry in document["items"])
    assert "classes" not in document


def test_translation_inputs_are_only_the_test_photos(tmp_path):
    # test items: c9 (index 2, photo), b2 (3, cartoon), e5 (4, photo), d4 (5, cartoon)
    document = container_manifest(make_built(tmp_path, "translation"))
    assert [entry["id"] for entry in document["items"]] == ["c9", "e5"]
    assert expected_outputs(make_built(tmp_path / "again", "translation"))["count"] == 2


def test_expected_outputs_state_the_array_shape_and_size_cap(tmp_path):
    outputs = expected_outputs(make_built(tmp_path, "classification"))
    assert outputs["files"] == ["scores.npy"] and outputs["shape"] == [4, 2]
    assert outputs["dtype"] == "float32" and outputs["output_mb"] == 7


def test_prepare_input_writes_readable_images_and_manifest(tmp_path):
    built = make_built(tmp_path / "bench", "translation")
    built.folder.joinpath("images", "c9.png").chmod(0o600)
    dest = prepare_input(built, tmp_path / "input")
    assert sorted(p.name for p in (dest / "images").iterdir()) == ["c9.png", "e5.png"]
    for path in [dest, dest / "images", dest / "manifest.json", *(dest / "images").iterdir()]:
        assert stat.S_IMODE(path.stat().st_mode) & 0o004, f"{path} is not world-readable"
    assert (dest / "images" / "c9.png").read_bytes() == (built.folder / "images" / "c9.png").read_bytes()
    on_disk = json.loads((dest / "manifest.json").read_text())
    assert on_disk == container_manifest(built)


def test_prepare_input_can_be_run_twice_and_drops_stale_images(tmp_path):
    built = make_built(tmp_path / "bench", "classification")
    prepare_input(built, tmp_path / "input")
    (tmp_path / "input" / "images" / "old.png").write_bytes(b"stale")
    dest = prepare_input(built, tmp_path / "input")
    assert sorted(p.name for p in (dest / "images").iterdir()) == ["b2.png", "c9.png", "d4.png", "e5.png"]
