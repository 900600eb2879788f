"""Held-out parts and phases in a spec: validated in one line, parts in the hash, settings out of it;
the build divides the held-out split among the parts, and a hidden part stays out of every bundle."""

from __future__ import annotations

import copy
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from datasets.__main__ import main as datasets_main
from datasets.build import BuiltBenchmark, build_benchmark
from datasets.manifest import MANIFEST_NAME, ManifestItem, Roles
from datasets.phases import HeldOutPart, assign_parts
from datasets.spec import SpecError, load_spec, spec_path
from evaluator.bundle import export_bundle
from evaluator.contract import input_items
from evaluator.output_files import OutputError
from evaluator.scoring import score_outputs

SECRET = "a" * 64
BUNDLED_TOONNET = spec_path("toonnet")
PARTS = [{"name": "dev", "fraction": 0.5}, {"name": "final", "fraction": 0.5, "inputs": "hidden"}]
PHASES = [
    {"slug": "dev", "title": "Development", "split": "dev", "opens": "2027-01-10", "closes": "2027-03-01",
     "submissions_per_day": 5, "leaderboard": "public", "entry": "best"},
    {"slug": "final", "title": "Final test", "split": "final", "opens": "2027-03-01", "closes": "2027-03-08",
     "submissions_total": 3, "leaderboard": "hidden_until_close", "entry": "chosen"},
]


def toonnet_document(**changes: Any) -> dict[str, Any]:
    """The bundled toonnet spec with two phases on two parts, then ``changes`` applied to the top level."""
    document = yaml.safe_load(BUNDLED_TOONNET.read_text())
    document.update({"heldout_parts": copy.deepcopy(PARTS), "phases": copy.deepcopy(PHASES)})
    document.update(changes)
    return document


def write_spec(folder: Path, document: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "toonnet.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def phase_with(index: int, **changes: Any) -> list[dict[str, Any]]:
    phases = copy.deepcopy(PHASES)
    phases[index].update(changes)
    return phases


@pytest.fixture
def phased(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A benchmarks folder whose toonnet has the two phases; returns the data root to build under."""
    monkeypatch.setattr("datasets.spec.BENCHMARKS_DIR", tmp_path / "specs")
    write_spec(tmp_path / "specs", toonnet_document())
    return tmp_path / "data"


# ---------------------------------------------------------------- the hash


def test_changing_a_quota_the_wording_or_a_phase_date_keeps_the_protocol_hash(tmp_path: Path) -> None:
    base = load_spec(write_spec(tmp_path / "base", toonnet_document()))
    limits = {**toonnet_document()["limits"], "submissions_per_day": 50, "upload_mb": 10}
    variants = {
        "quota": toonnet_document(limits=limits),
        "summary": toonnet_document(summary="Another summary", title="Another title", order=7),
        "paper": toonnet_document(paper={"title": "Another paper"}),
        "phase date": toonnet_document(phases=phase_with(1, closes="2027-04-30", leaderboard="public")),
        "no phases": toonnet_document(phases=[]),
    }
    for name, document in variants.items():
        assert load_spec(write_spec(tmp_path / name.replace(" ", "_"), document)).spec_hash() == base.spec_hash(), name


def test_changing_a_parts_fraction_or_inputs_changes_the_protocol_hash(tmp_path: Path) -> None:
    base = load_spec(write_spec(tmp_path / "base", toonnet_document())).spec_hash()
    fractions = [{**PARTS[0], "fraction": 0.4}, {**PARTS[1], "fraction": 0.6}]
    public = [PARTS[0], {**PARTS[1], "inputs": "public"}]
    assert load_spec(write_spec(tmp_path / "fractions", toonnet_document(heldout_parts=fractions))).spec_hash() != base
    assert load_spec(write_spec(tmp_path / "public", toonnet_document(heldout_parts=public))).spec_hash() != base


def test_a_spec_without_parts_or_phases_hashes_as_before(tmp_path: Path) -> None:
    plain = toonnet_document(heldout_parts=[], phases=[])
    assert load_spec(write_spec(tmp_path, plain)).spec_hash() == load_spec("toonnet").spec_hash()


# ---------------------------------------------------------------- bad input, one line each

BAD_SPECS = [
    ({"phases": phase_with(0, split="devv")},
     "phases.0.split: 'devv' is not a part of the held-out split (expected one of dev, final)"),
    ({"phases": phase_with(0, opens="2027-03-01", closes="2027-01-10")},
     "phases.0.closes: 2027-01-10T00:00:00+00:00 must be after opens (2027-03-01T00:00:00+00:00)"),
    ({"phases": phase_with(1, opens="2027-02-01")},
     "phases.1.opens: phase 'final' opens (2027-02-01T00:00:00+00:00) before phase 'dev' closes "
     "(2027-03-01T00:00:00+00:00); phases must not overlap"),
    ({"heldout_parts": [PARTS[0], {**PARTS[1], "fraction": 0.4}]},
     "heldout_parts: the parts' fractions must add up to 1, got 0.9"),
    ({"heldout_parts": [], "phases": phase_with(0, split="dev")[:1]},
     "phases.0.split: 'dev' is not a part of the held-out split (expected one of test)"),
    ({"phases": phase_with(0, leaderboard="secret")},
     "phases.0.leaderboard: Input should be 'public', 'hidden_until_close', 'private' or 'ladder'"),
    ({"phases": phase_with(0, quota=3)}, "phases.0.quota: unknown key"),
]


@pytest.mark.parametrize(("changes", "expected"), BAD_SPECS, ids=[e.split(":")[0] + str(i) for i, (_, e) in enumerate(BAD_SPECS)])
def test_a_bad_part_or_phase_is_refused_in_one_line_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], changes: dict[str, Any], expected: str
) -> None:
    path = write_spec(tmp_path, toonnet_document(**changes))
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert str(caught.value).startswith(f"{path}: {expected}")
    assert "\n" not in str(caught.value)
    assert datasets_main(["validate", str(path)]) == 1
    out = capsys.readouterr()
    assert expected in out.out + out.err and len((out.out + out.err).strip().splitlines()) == 1


# ---------------------------------------------------------------- the build


def part_ids(built: BuiltBenchmark, name: str) -> set[str]:
    return {item.id for item in built.test_items() if item.part == name}


def test_the_parts_are_disjoint_cover_the_held_out_split_and_rebuild_byte_for_byte(phased: Path) -> None:
    built = build_benchmark("toonnet", phased, profile="tiny", source="synthetic", secret=SECRET)
    dev, final = part_ids(built, "dev"), part_ids(built, "final")
    test = {item.id for item in built.test_items()}
    assert dev and final and not dev & final and dev | final == test
    assert len(dev) == len(test) // 2
    assert all(item.part is None for item in built.train_items())
    assert {item.label for item in built.test_items() if item.id in final} == set(built.spec.classes)
    again = build_benchmark("toonnet", phased.parent / "again", profile="tiny", source="synthetic", secret=SECRET)
    assert (again.folder / MANIFEST_NAME).read_bytes() == (built.folder / MANIFEST_NAME).read_bytes()
    assert again.protocol_hash == built.protocol_hash


def test_a_build_without_parts_writes_no_part_field(tmp_path: Path) -> None:
    built = build_benchmark("toonnet", tmp_path, profile="tiny", source="synthetic")
    assert all("part" not in json.loads(line) for line in (built.folder / MANIFEST_NAME).read_text().splitlines())
    assert built.part(None) is built and built.part("test") is built


def test_an_unknown_part_is_refused_in_one_line(phased: Path) -> None:
    built = build_benchmark("toonnet", phased, profile="tiny", source="synthetic")
    with pytest.raises(ValueError, match=r"^benchmark 'toonnet' has no held-out part 'nope' \(expected one of dev, final\)$"):
        built.part("nope")


def test_the_bundle_holds_nothing_of_a_hidden_part(phased: Path, tmp_path: Path) -> None:
    built = build_benchmark("toonnet", phased, profile="tiny", source="synthetic", secret=SECRET)
    final = part_ids(built, "final")
    archive = zipfile.ZipFile(export_bundle("toonnet", phased, tmp_path / "bundle.zip"))
    names = archive.namelist()
    hidden_paths = {f"toonnet/{item.path}" for item in built.test_items() if item.id in final}
    assert not hidden_paths & set(names)
    text = b"".join(archive.read(name) for name in names if not name.endswith(".png")).decode()
    assert not any(item_id in text for item_id in final)
    public = [json.loads(line) for line in archive.read("toonnet/manifest.public.jsonl").decode().splitlines()]
    shown_tests = {record["id"] for record in public if record["split"] == "test"}
    assert shown_tests == part_ids(built, "dev")
    assert {record["part"] for record in public if record["split"] == "test"} == {"dev"}
    container = json.loads(archive.read("toonnet/container_manifest.json"))
    assert {entry["id"] for entry in container["items"]} == part_ids(built, "dev")
    protocol = json.loads(archive.read("toonnet/protocol.json"))
    assert protocol["test_inputs"] == len(part_ids(built, "dev"))
    readme = archive.read("toonnet/README.md").decode()
    assert "| `final` | 0.5 | hidden | no |" in readme
    assert f"| `dev` | 0.5 | public | {len(part_ids(built, 'dev'))} |" in readme


# ---------------------------------------------------------------- scoring a part


def one_hot_scores(built: BuiltBenchmark, wrong: int) -> np.ndarray:
    """Scores that rank the true class first for every input but the first ``wrong`` ones."""
    classes = built.spec.classes
    items = input_items(built)
    scores = np.zeros((len(items), len(classes)), dtype=np.float32)
    for row, item in enumerate(items):
        truth = classes.index(item.label)
        scores[row, (truth + 1) % len(classes) if row < wrong else truth] = 1.0
    return scores


def test_scoring_a_part_scores_only_its_items(phased: Path, tmp_path: Path) -> None:
    built = build_benchmark("toonnet", phased, profile="tiny", source="synthetic")
    dev = built.part("dev")
    assert {item.id for item in input_items(dev)} == part_ids(built, "dev")
    (tmp_path / "out").mkdir()
    np.save(tmp_path / "out" / "scores.npy", one_hot_scores(dev, wrong=3))
    result = score_outputs(built, tmp_path / "out", part="dev", resamples=50)
    assert result.metrics["top1_error"] == pytest.approx(3 / len(part_ids(built, "dev")))
    assert result.part == "dev" and result.to_json()["part"] == "dev"
    assert result.protocol_hash == built.protocol_hash
    with pytest.raises(OutputError):
        score_outputs(built, tmp_path / "out", resamples=50)


# ---------------------------------------------------------------- the division itself


def test_an_identity_keeps_its_probe_and_gallery_images_in_one_part() -> None:
    items = [ManifestItem(id=f"{person}{shot}", path="", split="test", identity=person)
             for person in "abcdefgh" for shot in range(3)]
    items += [ManifestItem(id=f"x{n}", path="", split="test", identity="-1") for n in range(8)]
    parts = [HeldOutPart(name="one", fraction=0.5), HeldOutPart(name="two", fraction=0.5)]
    assignment = assign_parts(items, parts, seed=4)
    for person in "abcdefgh":
        assert len({assignment[f"{person}{shot}"] for shot in range(3)}) == 1
    groups_in_one = {item_id[0] if item_id[0] != "x" else item_id for item_id, part in assignment.items() if part == "one"}
    assert len(groups_in_one) == 8
    assert assign_parts(items, parts, seed=4) == assignment


def test_a_part_too_small_to_get_an_item_is_named() -> None:
    items = [ManifestItem(id=f"i{n}", path="", split="test", label="cat") for n in range(3)]
    parts = [HeldOutPart(name="big", fraction=0.9), HeldOutPart(name="tiny", fraction=0.1)]
    with pytest.raises(ValueError, match=r"^heldout_parts\.1\.fraction: part 'tiny' gets none of the 3 held-out items"):
        assign_parts(items, parts, seed=0)


def test_roles_restricted_to_a_part_keep_probes_with_their_gallery_and_pairs_within_it() -> None:
    roles = Roles(
        probes=["p1", "p2"], gallery=["g1", "g2", "d1", "d2"], pairs=[("p1", "g1", True), ("p1", "p2", False)],
        probe_gallery={"p1": "g1", "p2": "g2"}, distractors=["d1", "d2"],
    )
    narrowed = roles.restricted({"p1", "g1", "d2", "p2"})
    assert narrowed.probes == ["p1"] and narrowed.probe_gallery == {"p1": "g1"}
    assert narrowed.distractors == ["d2"] and narrowed.gallery == ["g1", "d2"]
    assert narrowed.pairs == [("p1", "g1", True), ("p1", "p2", False)]
