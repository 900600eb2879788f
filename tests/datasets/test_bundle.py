"""Protocol bundles: everything to train and predict, no held-out truth."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from datasets.__main__ import main
from datasets.build import BuiltBenchmark, build_benchmark
from evaluator.__main__ import main as evaluator_main
from evaluator.bundle import export_bundle

SLUGS = ["toonnet", "illustration", "icartoonface", "cartoonization"]
TRUTH_KEYS = {"label", "identity", "domain"}


@pytest.fixture(scope="session")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("built")


@pytest.fixture(scope="session")
def built_tiny(data_root: Path):
    cache: dict[str, BuiltBenchmark] = {}

    def get(slug: str) -> BuiltBenchmark:
        if slug not in cache:
            cache[slug] = build_benchmark(slug, data_root, profile="tiny", source="synthetic")
        return cache[slug]

    return get


@pytest.fixture(scope="session")
def bundles(built_tiny, tmp_path_factory: pytest.TempPathFactory, data_root: Path):
    out = tmp_path_factory.mktemp("bundles")
    cache: dict[str, Path] = {}

    def get(slug: str) -> tuple[BuiltBenchmark, zipfile.ZipFile]:
        built = built_tiny(slug)
        if slug not in cache:
            cache[slug] = export_bundle(slug, data_root, out)
        return built, zipfile.ZipFile(cache[slug])

    return get


def input_ids(built: BuiltBenchmark) -> set[str]:
    """The test items a participant must predict: every test item, test photos only for translation."""
    tests = built.test_items()
    if built.spec.task == "translation":
        tests = [item for item in tests if item.domain == "photo"]
    return {item.id for item in tests}


def public_records(archive: zipfile.ZipFile, slug: str) -> list[dict]:
    text = archive.read(f"{slug}/manifest.public.jsonl").decode()
    return [json.loads(line) for line in text.splitlines()]


@pytest.mark.parametrize("slug", SLUGS)
def test_bundle_lists_every_test_input_without_its_truth(bundles, slug: str) -> None:
    built, archive = bundles(slug)
    records = public_records(archive, slug)
    tests = [r for r in records if r["split"] == "test"]
    assert {r["id"] for r in tests} == input_ids(built)
    for record in tests:
        assert not TRUTH_KEYS & set(record)
        assert set(record) <= {"id", "path", "sha256", "split", "box"}
    assert [r["id"] for r in records] == sorted(r["id"] for r in records)


@pytest.mark.parametrize("slug", SLUGS)
def test_bundle_keeps_the_truth_of_training_items(bundles, slug: str) -> None:
    built, archive = bundles(slug)
    train = {r["id"]: r for r in public_records(archive, slug) if r["split"] == "train"}
    assert train == {item.id: item.to_json() for item in built.train_items()}


@pytest.mark.parametrize("slug", SLUGS)
def test_bundle_holds_no_held_out_item_outside_the_inputs(bundles, slug: str) -> None:
    built, archive = bundles(slug)
    names = archive.namelist()
    images = {Path(name).stem for name in names if name.startswith(f"{slug}/images/")}
    assert images == input_ids(built) | {item.id for item in built.train_items()}
    hidden = {item.id for item in built.test_items()} - input_ids(built)
    text = "".join(archive.read(name).decode() for name in names if not name.endswith(".png"))
    assert not any(item_id in text for item_id in hidden)
    assert not any("roles" in Path(name).name for name in names)


def test_translation_bundle_has_no_test_cartoon(bundles) -> None:
    built, archive = bundles("cartoonization")
    cartoons = {item.id for item in built.test_items() if item.domain == "cartoon"}
    assert cartoons
    assert not any(Path(name).stem in cartoons for name in archive.namelist())


def test_face_bundle_has_no_identity_role_or_pair_of_test_faces(bundles) -> None:
    built, archive = bundles("icartoonface")
    tests = [r for r in public_records(archive, "icartoonface") if r["split"] == "test"]
    boxes = {item.id: list(item.box) for item in built.test_items()}
    assert all(record["box"] == boxes[record["id"]] for record in tests)
    text = "\n".join(archive.read(n).decode() for n in archive.namelist() if not n.endswith(".png"))
    for key in ('"probes"', '"gallery"', '"pairs"', '"identity"'):
        assert key not in archive.read("icartoonface/container_manifest.json").decode()
    a, b, _ = built.roles.pairs[0]
    assert f'["{a}", "{b}"' not in text and f'["{a}","{b}"' not in text


def test_container_manifest_in_the_bundle_carries_no_truth(bundles) -> None:
    built, archive = bundles("toonnet")
    document = json.loads(archive.read("toonnet/container_manifest.json"))
    assert [entry["id"] for entry in document["items"]] == sorted(input_ids(built))
    assert all(set(entry) == {"id", "path"} for entry in document["items"])
    assert document["classes"] == built.spec.classes


def test_bundle_readme_states_metrics_contract_and_scoring(bundles) -> None:
    built, archive = bundles("toonnet")
    readme = archive.read("toonnet/README.md").decode()
    assert built.protocol_hash in readme
    assert "| `top1_error` | `topk_error` | k=1 | lower | yes |" in readme
    assert "float32 array [72, 12]" in readme
    assert "python -m evaluator score toonnet output/ --data ROOT" in readme
    assert "wall clock 3600 s, memory 16 GB" in readme
    protocol = json.loads(archive.read("toonnet/protocol.json"))
    assert protocol["protocol_hash"] == built.protocol_hash
    assert (protocol["train_items"], protocol["test_inputs"]) == (168, 72)  # 12 classes x 20, 30% -> 6 per class


def test_bundle_zip_is_byte_for_byte_reproducible(built_tiny, data_root: Path, tmp_path: Path) -> None:
    built_tiny("toonnet")
    first = export_bundle("toonnet", data_root, tmp_path / "a.zip")
    second = export_bundle("toonnet", data_root, tmp_path / "b.zip")
    assert first.read_bytes() == second.read_bytes()
    infos = zipfile.ZipFile(first).infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}


def test_build_command_prints_counts_and_the_protocol_hash(built_tiny, data_root: Path, capsys) -> None:
    built = built_tiny("icartoonface")
    assert main(["build", "icartoonface", "--data", str(data_root), "--profile", "tiny", "--source", "synthetic"]) == 0
    out = capsys.readouterr().out
    positives = sum(1 for _, _, same in built.roles.pairs if same)
    assert f"train: {len(built.train_items())}" in out
    assert f"probes: {len(built.roles.probes)}, gallery: {len(built.roles.gallery)}" in out
    assert f"pairs: {positives} positive, {positives} negative" in out
    assert f"protocol hash {built.protocol_hash}" in out


def test_bundle_command_writes_the_zip_it_prints(built_tiny, data_root: Path, tmp_path: Path, capsys) -> None:
    built_tiny("toonnet")
    assert evaluator_main(["bundle", "toonnet", "--data", str(data_root), "--out", str(tmp_path / "t.zip")]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "t.zip")
    assert zipfile.is_zipfile(tmp_path / "t.zip")


def test_commands_fail_with_one_line_and_status_2(tmp_path: Path, capsys) -> None:
    assert evaluator_main(["bundle", "toonnet", "--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "is not built" in err
    assert main(["build", "toonet", "--data", str(tmp_path)]) == 2
    assert "no benchmark 'toonet'" in capsys.readouterr().err
    assert main(["build", "toonnet", "--data", str(tmp_path), "--source", "real"]) == 2
    assert "is not a folder here" in capsys.readouterr().err
