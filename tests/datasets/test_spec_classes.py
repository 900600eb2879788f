"""The spec is the authority over class names, and component parameters are typed once, on load.

A classification generator declares the class names it can draw; a spec may
use any of them in any order and each image is drawn for its class by name,
so reordering the YAML's classes reorders the score columns but never
mislabels an image. A name the generator cannot draw fails ``validate``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import yaml
from sklearn.neighbors import NearestCentroid

from datasets.__main__ import main
from datasets.adapters.folder_per_class import FolderPerClassOptions
from datasets.build import BuiltBenchmark, build_benchmark
from datasets.generators import GENERATORS
from datasets.generators.toon_objects import ToonObjectsParams
from datasets.protocol import FaceIdentitiesParams, HoldoutParams
from datasets.spec import SpecError, load_spec, ordered_slugs, spec_path

BUNDLED_TOONNET = spec_path("toonnet")
TOONNET_CLASSES = ["android robot", "car", "elephant", "dog", "flower", "cat", "bee", "penguin", "tree", "winnie bear", "panda", "cloud"]
# The protocol of every bundled spec and profile, as the project has published it (wording, list
# order, quotas, upload size and phases are settings, outside the hash); an edit that changes one
# of these changes a protocol version and must be deliberate.
SPEC_HASHES = {
    # cartoonization: the reference cartoons' style block (a cool colour cast, indigo ink)
    ("cartoonization", "default"): "0f4bc8fab7e335dd9c75957118009f9ef1451303f4505467176c90715cda9000",
    ("cartoonization", "tiny"): "b4e791ea81c83b4c2fe64ff6fd15f03b00f9fbda368237a6677aab161cbcad40",
    # icartoonface: per-probe galleries, 1,200 + 800 probe identities, enlarged rate 1.0 (new protocol);
    # the nuisances block (per-image recolouring, look-alike rate, box jitter, pose, occlusion, degradations)
    ("icartoonface", "default"): "f992d9e706199e057a83f8079d25fe9e6219365ac3e4392d331cd6894beb887d",
    ("icartoonface", "official"): "4a1c3a8d182a7588db30966a0f9dfbd1279aaa2750dfaa9e06b982ca7657b221",
    ("icartoonface", "tiny"): "94d70dd9988e533cf932805701cf93daf49fd22811cbfd1ec465e7fd7b57a1b8",
    # illustration: real builds keep the published curated/train + curated/val split (real_split)
    ("illustration", "default"): "aaf728d74074a2d9da56259e0404850bee2cc1a0de7d26f806d2c76d75dad5ef",
    ("illustration", "tiny"): "408861e53fbbeaa088ef7917b94e847d5e224a4090d4ba03a52bcf03726fc0b2",
    # toonnet: the nuisances block (styles of §3.2/§3.4, designs, look-alikes, clutter, degradations)
    ("toonnet", "default"): "4c034fc893183c9305db7e128a337317f97d4d870c24f3b62d2353684e0bdc23",
    ("toonnet", "tiny"): "7706e129c4cb268f1f66c23b1ed76d0aed5d53edc1a56d3bb64477db5f48758c",
}


def toonnet_with(tmp_path: Path, name: str, **changes: Any) -> Path:
    document = yaml.safe_load(BUNDLED_TOONNET.read_text())
    document.update(changes)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def pixels(built: BuiltBenchmark, side: int = 32) -> np.ndarray:
    images = [cv2.imread(str(built.folder / item.path), cv2.IMREAD_COLOR) for item in built.items]
    return np.stack([cv2.resize(image, (side, side), interpolation=cv2.INTER_AREA).ravel() for image in images]).astype(np.float32) / 255


def test_the_generators_declare_the_classes_they_draw_by_name() -> None:
    assert GENERATORS.get("toon_objects").classes == tuple(TOONNET_CLASSES)
    assert GENERATORS.get("clipart_glyphs").classes == tuple(load_spec("illustration").classes)
    assert GENERATORS.get("cartoon_faces").classes == ()


def test_a_class_the_generator_cannot_draw_fails_validate_with_file_field_and_the_names_it_draws(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = toonnet_with(tmp_path, "unicorns", classes=["android robot", "car", "elephant", "unicorn", "cat"])

    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert (caught.value.path, caught.value.field) == (str(path), "classes.3")
    assert caught.value.problem == (
        "generator 'toon_objects' cannot draw class 'unicorn' (it draws: " + ", ".join(TOONNET_CLASSES) + ")"
    )
    assert main(["validate", str(path)]) == 1
    assert capsys.readouterr().out.startswith(f"{path}: classes.3: generator 'toon_objects' cannot draw class 'unicorn'")


def test_a_subset_of_ten_classes_validates_and_builds_with_ten_classes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("datasets.spec.BENCHMARKS_DIR", tmp_path / "specs")
    (tmp_path / "specs").mkdir()
    ten = TOONNET_CLASSES[:10]
    toonnet_with(tmp_path / "specs", "toonnet", classes=ten)
    assert main(["validate", str(tmp_path / "specs" / "toonnet.yaml")]) == 0

    built = build_benchmark("toonnet", tmp_path / "data", profile="tiny")

    assert Counter(item.label for item in built.items) == {name: 20 for name in ten}
    assert built.spec.classes == ten


def test_reordering_the_classes_reorders_the_columns_but_labels_every_image_by_what_it_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Class means learnt on the published order recognise the images of the reversed order
    as well as new images of the published order. Had images been bound to positions, the
    reversed order (which moves every class) would label nearly every image wrong."""
    canonical = build_benchmark("toonnet", tmp_path / "canonical", profile="tiny")
    monkeypatch.setattr("datasets.spec.BENCHMARKS_DIR", tmp_path / "specs")
    (tmp_path / "specs").mkdir()
    toonnet_with(tmp_path / "specs", "toonnet", classes=TOONNET_CLASSES[::-1])
    reversed_order = build_benchmark("toonnet", tmp_path / "reversed", profile="tiny")
    document = yaml.safe_load(BUNDLED_TOONNET.read_text())
    toonnet_with(tmp_path / "specs", "toonnet", dataset={**document["dataset"], "synthetic": {**document["dataset"]["synthetic"], "seed": 1}})
    fresh = build_benchmark("toonnet", tmp_path / "fresh", profile="tiny")

    assert reversed_order.spec.classes == TOONNET_CLASSES[::-1]
    assert Counter(item.label for item in reversed_order.items) == Counter(item.label for item in canonical.items)
    means = NearestCentroid().fit(pixels(canonical), [item.label for item in canonical.items])
    on_reversed = means.score(pixels(reversed_order), [item.label for item in reversed_order.items])
    on_fresh = means.score(pixels(fresh), [item.label for item in fresh.items])
    chance = 1 / len(TOONNET_CLASSES)
    print(f"\nnearest class mean: {on_reversed:.3f} on the reversed order, {on_fresh:.3f} on new images (chance {chance:.3f})")
    assert on_fresh > 2 * chance
    assert on_reversed > on_fresh - 0.1


def test_component_parameters_are_parsed_once_into_the_components_own_models() -> None:
    toonnet, faces = load_spec("toonnet", "tiny"), load_spec("icartoonface")
    toon_params = toonnet.dataset.synthetic.params
    assert isinstance(toon_params, ToonObjectsParams) and (toon_params.per_class, toon_params.size) == (20, 64)
    default = load_spec("toonnet").dataset.synthetic.params.nuisances
    assert toon_params.nuisances.styles == default.styles and toon_params.nuisances.lookalike == 0.3  # tiny halves some
    assert toonnet.dataset.options == FolderPerClassOptions()
    assert toonnet.split.params == HoldoutParams(test_fraction=0.3)
    assert isinstance(faces.split.params, FaceIdentitiesParams) and faces.split.params.probes_per_identity == (3, 7)


def test_the_dumped_spec_holds_the_parameters_as_written_not_the_models_defaults() -> None:
    dumped = load_spec("toonnet").model_dump(mode="json")
    assert dumped["dataset"]["options"] == {}
    written = yaml.safe_load(BUNDLED_TOONNET.read_text())["dataset"]["synthetic"]
    assert dumped["dataset"]["synthetic"] == {"generator": "toon_objects", "seed": 0, "params": {"per_class": 300, "size": 128, "nuisances": written["nuisances"]}}
    assert dumped["split"] == {"method": "stratified", "seed": 0, "params": {"test_fraction": 0.3}}


@pytest.mark.parametrize(("slug", "profile"), sorted(SPEC_HASHES))
def test_the_bundled_specs_keep_their_published_hashes(slug: str, profile: str) -> None:
    assert load_spec(slug, profile).spec_hash() == SPEC_HASHES[(slug, profile)]


def test_the_listing_order_comes_from_the_specs_and_is_not_part_of_the_protocol(tmp_path: Path) -> None:
    assert ordered_slugs() == ["toonnet", "illustration", "icartoonface", "cartoonization"]
    moved = load_spec(toonnet_with(tmp_path, "moved", order=9))
    assert moved.order == 9 and load_spec("toonnet").order == 1
    assert moved.spec_hash() == load_spec("toonnet").spec_hash()
