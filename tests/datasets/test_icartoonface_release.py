"""The iCartoonFace release as published, the official protocol and the constructed one."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from datasets.adapters import ADAPTERS, AdapterError
from datasets.build import build_benchmark
from datasets.manifest import ManifestItem
from datasets.protocol import FaceIdentitiesParams, face_identity_roles, params_for_source
from datasets.spec import component_params, load_spec
from evaluator.scoring import score_outputs

TRAIN = "personai_icartoonface_rectrain"
TEST = "personai_icartoonface_rectest"
TRAIN_IDENTITIES = 3
TEST_LABELS = 4  # label ids 100..103, absent from training
PROBES_PER_LABEL = 2
DISTRACTORS = 5


def write_jpeg(path: Path, seed: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    image = np.full((60, 80, 3), rng.integers(0, 255, 3), dtype=np.uint8)
    cv2.circle(image, (40, 30), 12, tuple(int(v) for v in rng.integers(0, 255, 3)), -1)
    assert cv2.imwrite(str(path), image)


def write_release(root: Path) -> Path:
    """A small release tree: train folders + det file, test images + info with pairs and -1 lines."""
    det = []
    for identity in range(TRAIN_IDENTITIES):
        for index in range(3):
            relpath = f"char{identity:03d}/img{index}.jpg"
            write_jpeg(root / TRAIN / "icartoonface_rectrain" / relpath, identity * 10 + index)
            det.append("\t".join([relpath, "20", "10", "60", "50"]))
    (root / TRAIN / "icartoonface_rectrain_det.txt").write_text("\n".join(det) + "\n")
    info, pairs, seed = [], [], 1000
    for label in range(100, 100 + TEST_LABELS):
        names = [f"t{label}_{index}.jpg" for index in range(PROBES_PER_LABEL + 1)]
        for name in names:
            write_jpeg(root / TEST / "icartoonface_rectest" / name, seed)
            seed += 1
            info.append(f"{name} 20 10 60 50 {label}")
        pairs += [f"{probe} {names[0]}" for probe in names[1:]]
    for index in range(DISTRACTORS):
        name = f"d{index}.jpg"
        write_jpeg(root / TEST / "icartoonface_rectest" / name, 5000 + index)
        info.append(f"{name} 20 10 60 50 -1")
    (root / TEST / "icartoonface_rectest_info.txt").write_text("\n".join(info + pairs) + "\n")
    return root


@pytest.fixture
def release(tmp_path: Path) -> Path:
    return write_release(tmp_path / "data" / "icartoonface")


def read(root: Path, folder: Path, **options) -> list[ManifestItem]:
    adapter = ADAPTERS.get("icartoonface")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "images").mkdir(exist_ok=True)
    return adapter.fn(root, component_params(adapter.params_model, options), [], folder)


def test_the_official_build_keeps_the_release_roles(release, tmp_path, monkeypatch):
    monkeypatch.setenv("TOONBENCH_DATA", str(release.parent))
    built = build_benchmark("icartoonface", tmp_path / "built", profile="official", source="real")
    roles = built.roles
    assert len(roles.probes) == TEST_LABELS * PROBES_PER_LABEL
    assert len(roles.distractors) == DISTRACTORS
    assert len(roles.gallery) == DISTRACTORS + TEST_LABELS
    assert len(built.train_items()) == TRAIN_IDENTITIES * 3
    by_id = {item.id: item for item in built.items}
    assert all(by_id[d].identity == "-1" and by_id[d].split == "test" for d in roles.distractors)
    assert all(by_id[p].identity == by_id[g].identity for p, g in roles.probe_gallery.items())
    assert {by_id[a].identity for a, _, _ in roles.pairs} <= {str(label) for label in range(100, 104)}
    assert sum(same for _, _, same in roles.pairs) == len(roles.pairs) // 2 > 0


def test_official_scores_equal_an_independent_implementation_of_the_official_rule(release, tmp_path, monkeypatch):
    monkeypatch.setenv("TOONBENCH_DATA", str(release.parent))
    built = build_benchmark("icartoonface", tmp_path / "built", profile="official", source="real")
    inputs = built.test_items()
    rng = np.random.default_rng(4)
    embeddings = rng.standard_normal((len(inputs), 6)).astype(np.float32)
    out = tmp_path / "out"
    out.mkdir()
    np.save(out / "embeddings.npy", embeddings)
    result = score_outputs(built, out, resamples=20)

    row = {item.id: index for index, item in enumerate(inputs)}
    unit = embeddings.astype(np.float64) / np.linalg.norm(embeddings, axis=1, keepdims=True)
    distractors = [row[d] for d in built.roles.distractors]
    ranks = []
    for probe, gallery in built.roles.probe_gallery.items():
        target = unit[row[probe]] @ unit[row[gallery]]
        ranks.append(1 + sum(unit[row[probe]] @ unit[d] >= target for d in distractors))
    ranks = np.array(ranks)
    assert result.metrics["rank1"] == pytest.approx(np.mean(ranks <= 1))
    assert result.metrics["rank5"] == pytest.approx(np.mean(ranks <= 5))
    cmc = result.details["identification"]["cmc"]
    assert cmc[:DISTRACTORS + 1] == pytest.approx([np.mean(ranks <= k) for k in range(1, DISTRACTORS + 2)])
    assert result.details["identification"]["rank1_vs_distractors"]["distractors"] == [DISTRACTORS]


def test_the_constructed_protocol_reads_the_release_and_puts_minus_one_faces_in_the_distractors(release, tmp_path):
    items = read(release, tmp_path / "built")
    assert len(items) == TRAIN_IDENTITIES * 3 + TEST_LABELS * (PROBES_PER_LABEL + 1) + DISTRACTORS
    params = FaceIdentitiesParams(seen_probe_identities=2, unseen_probe_identities=2, distractor_identities=2,
                                  probes_per_identity=(1, 1), verification_pairs=1)
    roles = face_identity_roles(items, params, seed=0)
    unlabelled = [item.id for item in items if item.identity == "-1"]
    assert set(unlabelled) <= set(roles.distractors)
    assert all(roles.splits[item_id] == "test" for item_id in unlabelled)


def test_the_crop_is_twice_the_box_by_default(release, tmp_path):
    items = read(release, tmp_path / "built")
    image = cv2.imread(str(tmp_path / "built" / items[0].path))
    assert image.shape[:2] == (60, 80)  # box 40x40 at (20,10): doubled to 80x80, clamped to the picture
    assert items[0].box == (20, 10, 60, 50)


def paper_table(extra_train_identities: int = 300) -> list[ManifestItem]:
    """Identity table of the paper's size, no images: 4,500 + train identities of 8 images, and -1 faces."""
    items = []
    for identity in range(2000 + 2500 + extra_train_identities):
        items += [ManifestItem(id=f"i{identity:05d}_{k}", path="", identity=str(identity)) for k in range(8)]
    items += [ManifestItem(id=f"none{k:03d}", path="", identity="-1") for k in range(40)]
    return items


def test_the_constructed_protocol_has_the_papers_counts_at_the_real_scale():
    spec = load_spec("icartoonface")
    params = params_for_source(spec.split.params, "real")
    assert params.scale == 1.0 and spec.split.params.scale < 1.0
    items = paper_table()
    roles = face_identity_roles(items, params, seed=0)
    identity = {item.id: item.identity for item in items}
    probe_identities = {identity[p] for p in roles.probe_gallery}
    train_identities = {identity[i] for i, split in roles.splits.items() if split == "train"}
    assert len(probe_identities) == 2000
    assert len(probe_identities & train_identities) == 1200
    labelled = [d for d in roles.distractors if identity[d] != "-1"]
    assert len(labelled) == len({identity[d] for d in labelled}) == 2500
    assert not {identity[d] for d in labelled} & (train_identities | probe_identities)
    assert "-1" not in train_identities and len(roles.distractors) == 2500 + 40
    per_identity = np.bincount([int(identity[p]) for p in roles.probe_gallery])
    assert set(per_identity[per_identity > 0]) <= set(range(3, 8))
    galleries = {identity[g] for g in roles.probe_gallery.values()}
    assert galleries == probe_identities and len(set(roles.probe_gallery.values())) == 2000


def test_synthetic_builds_still_scale(tmp_path):
    built = build_benchmark("icartoonface", tmp_path / "built", profile="tiny", source="synthetic")
    assert len({built.roles.probe_gallery[p] for p in built.roles.probes}) == 20  # 12 seen + 8 unseen
    assert len(built.roles.distractors) == 25


def test_the_official_protocol_needs_the_release(tmp_path):
    with pytest.raises(ValueError, match="build with --source real"):
        build_benchmark("icartoonface", tmp_path / "built", profile="official", source="synthetic")


def replace_line(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def bad_det_field_count(root):
    replace_line(root / TRAIN / "icartoonface_rectrain_det.txt", "char000/img1.jpg\t20\t10\t60\t50",
                 "char000/img1.jpg\t20\t10\t60")
    return f"{TRAIN}/icartoonface_rectrain_det.txt:2: expected 5 tab-separated fields"


def bad_pair(root):
    replace_line(root / TEST / "icartoonface_rectest_info.txt", "t100_1.jpg t100_0.jpg", "t100_1.jpg nowhere.jpg")
    return "pair names 'nowhere.jpg', which has no 'path x1 y1 x2 y2 label_id' line"


def bad_image(root):
    (root / TEST / "icartoonface_rectest" / "d0.jpg").write_bytes(b"not a jpeg")
    return "cannot read image d0.jpg"


def bad_box(root):
    replace_line(root / TEST / "icartoonface_rectest_info.txt", "d1.jpg 20 10 60 50", "d1.jpg 20 10 90 50")
    return "box (20, 10, 90, 50) lies outside the 80x60 image"


def missing_folder(root):
    for path in sorted((root / TEST / "icartoonface_rectest").iterdir()):
        path.unlink()
    (root / TEST / "icartoonface_rectest").rmdir()
    return f"{TEST}/icartoonface_rectest: iCartoonFace release folder not found"


def bad_info_field_count(root):
    replace_line(root / TEST / "icartoonface_rectest_info.txt", "d2.jpg 20 10 60 50 -1", "d2.jpg 20 10 60 50 -1 x")
    return "expected 6 fields (path x1 y1 x2 y2 label_id) or 2"


def bad_pair_labels(root):
    replace_line(root / TEST / "icartoonface_rectest_info.txt", "t100_1.jpg t100_0.jpg", "t100_1.jpg t101_0.jpg")
    return "must share one label_id other than -1"


@pytest.mark.parametrize("break_release", [bad_det_field_count, bad_pair, bad_image, bad_box, missing_folder,
                                           bad_info_field_count, bad_pair_labels])
def test_a_broken_release_fails_with_the_file_line_and_what_was_expected(break_release, release, tmp_path):
    expected = break_release(release)
    with pytest.raises(AdapterError) as raised:
        read(release, tmp_path / "built", protocol="official")
    message = str(raised.value)
    assert expected in message
    assert "\n" not in message
    if "txt:" in expected or "pair" in expected or "fields" in expected:
        assert ".txt:" in message


def move_test_info_to_the_root(root: Path) -> Path:
    """The layout of third-party loaders: ``icartoonface_rectest_info.txt`` beside the two release folders."""
    moved = root / "icartoonface_rectest_info.txt"
    (root / TEST / "icartoonface_rectest_info.txt").rename(moved)
    return moved


def test_the_test_label_file_is_read_at_the_release_root_too(release, tmp_path):
    published = read(release, tmp_path / "published", protocol="official")
    move_test_info_to_the_root(release)
    at_root = read(release, tmp_path / "at_root", protocol="official")
    assert [(item.id, item.split, item.identity, item.box) for item in at_root] == \
        [(item.id, item.split, item.identity, item.box) for item in published]
    assert sum(item.split == "probe" for item in at_root) == TEST_LABELS * PROBES_PER_LABEL
    assert sum(item.split == "distractor" for item in at_root) == DISTRACTORS


def test_errors_in_a_root_level_label_file_name_that_file(release, tmp_path):
    moved = move_test_info_to_the_root(release)
    replace_line(moved, "t100_1.jpg t100_0.jpg", "t100_1.jpg nowhere.jpg")
    with pytest.raises(AdapterError, match=f"^{moved}:"):
        read(release, tmp_path / "built", protocol="official")


def test_a_missing_test_label_file_names_both_places_it_is_looked_for(release, tmp_path):
    (release / TEST / "icartoonface_rectest_info.txt").unlink()
    with pytest.raises(AdapterError) as raised:
        read(release, tmp_path / "built")
    message = str(raised.value)
    assert str(release / TEST / "icartoonface_rectest_info.txt") in message
    assert str(release / "icartoonface_rectest_info.txt") in message
    assert "not found" in message and "\n" not in message
