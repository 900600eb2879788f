"""Split methods: exact per-class fractions, determinism, face protocol invariants."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest

from datasets import hard_pairs
from datasets.hard_pairs import face_features, identity_pair_maxima
from datasets.manifest import ManifestItem
from datasets.protocol import (
    SPLIT_METHODS,
    FaceIdentitiesParams,
    HoldoutParams,
    face_counts,
    face_identities_split,
    holdout_count,
)


def make_id(index: int) -> str:
    return hashlib.sha256(f"test:{index}".encode()).hexdigest()[:16]


def labelled_items(sizes: dict[str, int], field: str = "label") -> list[ManifestItem]:
    items, index = [], 0
    for name, size in sizes.items():
        for _ in range(size):
            items.append(ManifestItem(id=make_id(index), path=f"images/{make_id(index)}.png", **{field: name}))
            index += 1
    return items


def split_with(method: str, items: list[ManifestItem], params: dict, seed: int, folder: Path):
    component = SPLIT_METHODS.get(method)
    return component.fn(items, component.params_model.model_validate(params), seed, folder)


def test_stratified_split_takes_the_rounded_fraction_of_each_class(tmp_path: Path) -> None:
    sizes = {"cat": 10, "dog": 7, "bee": 3, "car": 2, "tree": 1, "cloud": 15}
    # round-half-up(n * 0.3), at least one when a class has two or more, never the whole class
    expected_test = {"cat": 3, "dog": 2, "bee": 1, "car": 1, "tree": 0, "cloud": 5}
    items = labelled_items(sizes)
    splits = split_with("stratified", items, {"test_fraction": 0.3}, 0, tmp_path).splits
    assert set(splits) == {item.id for item in items}
    for name, size in sizes.items():
        class_splits = [splits[item.id] for item in items if item.label == name]
        assert class_splits.count("test") == expected_test[name]
        assert class_splits.count("train") == size - expected_test[name]


def test_stratified_split_of_the_illustration_protocol_is_80_20(tmp_path: Path) -> None:
    items = labelled_items({f"class{c}": 150 for c in range(23)})
    splits = split_with("stratified", items, {"test_fraction": 0.2}, 0, tmp_path).splits
    assert list(splits.values()).count("test") == 23 * 30


def test_stratified_split_rounds_halves_up(tmp_path: Path) -> None:
    items = labelled_items({"a": 5, "b": 9})
    splits = split_with("stratified", items, {"test_fraction": 0.5}, 3, tmp_path).splits
    assert [splits[i.id] for i in items if i.label == "a"].count("test") == 3
    assert [splits[i.id] for i in items if i.label == "b"].count("test") == 5


def test_stratified_split_is_deterministic_and_ignores_input_order(tmp_path: Path) -> None:
    items = labelled_items({"a": 20, "b": 13})
    first = split_with("stratified", items, {"test_fraction": 0.3}, 7, tmp_path).splits
    again = split_with("stratified", list(reversed(items)), {"test_fraction": 0.3}, 7, tmp_path).splits
    other_seed = split_with("stratified", items, {"test_fraction": 0.3}, 8, tmp_path).splits
    assert first == again
    assert first != other_seed


def test_domain_holdout_splits_photos_and_cartoons_separately(tmp_path: Path) -> None:
    items = labelled_items({"photo": 24, "cartoon": 10}, field="domain")
    splits = split_with("domain_holdout", items, {"test_fraction": 0.3}, 0, tmp_path).splits
    photos = [splits[i.id] for i in items if i.domain == "photo"]
    cartoons = [splits[i.id] for i in items if i.domain == "cartoon"]
    assert photos.count("test") == 7  # 7.2
    assert cartoons.count("test") == 3
    assert split_with("domain_holdout", items, {"test_fraction": 0.3}, 0, tmp_path).splits == splits


@pytest.mark.parametrize("fraction", [0.0, 1.0, 1.5, -0.2])
def test_holdout_params_reject_fractions_outside_the_open_interval(fraction: float) -> None:
    with pytest.raises(ValueError):
        HoldoutParams.model_validate({"test_fraction": fraction})


# --- faces -----------------------------------------------------------------

def face_dataset(folder: Path, sizes: list[int], unlabelled: int = 5, seed: int = 0) -> list[ManifestItem]:
    """Identity ``i`` has ``sizes[i]`` 24x24 images: a base colour and a pattern
    per identity, plus per-image noise; the box is the central 16x16."""
    rng = np.random.default_rng(seed)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    items, index = [], 0
    plan = [(str(identity), size) for identity, size in enumerate(sizes)] + [("-1", unlabelled)]
    for identity, size in plan:
        base = rng.integers(0, 256, size=3)
        pattern = rng.integers(-40, 40, size=(24, 24, 1))
        for _ in range(size):
            noise = rng.integers(-30, 30, size=(24, 24, 3))
            image = np.clip(base + pattern + noise, 0, 255).astype(np.uint8)
            item_id = make_id(index)
            cv2.imwrite(str(folder / f"images/{item_id}.png"), image)
            items.append(ManifestItem(id=item_id, path=f"images/{item_id}.png", identity=identity, box=(4, 4, 20, 20)))
            index += 1
    return items


FACE_PARAMS = {
    "seen_probe_identities": 4,
    "unseen_probe_identities": 6,
    "probes_per_identity": [2, 4],
    "distractor_identities": 12,
    "verification_pairs": 15,
}


@pytest.fixture(scope="module")
def faces(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("faces")
    sizes = [3 + (i * 7) % 6 for i in range(36)]  # 3..8 images per identity
    items = face_dataset(folder, sizes)
    params = FaceIdentitiesParams.model_validate(FACE_PARAMS)
    assignment = face_identities_split(items, params, 0, folder)
    return folder, items, assignment


def identities_of(items: list[ManifestItem], ids) -> set[str]:
    by_id = {item.id: item.identity for item in items}
    return {by_id[i] for i in ids}


def test_face_split_gives_each_probe_identity_exactly_one_gallery_image(faces) -> None:
    _, items, assignment = faces
    roles = assignment.roles
    by_id = {item.id: item.identity for item in items}
    probe_identities = identities_of(items, roles.probes)
    assert len(probe_identities) == 10
    for identity in probe_identities:
        assert sum(by_id[g] == identity for g in roles.gallery) == 1
    assert sorted(roles.probe_gallery) == roles.probes
    assert all(by_id[p] == by_id[g] for p, g in roles.probe_gallery.items())
    assert set(roles.gallery) == set(roles.distractors) | set(roles.probe_gallery.values())
    assert roles.probes == sorted(roles.probes) and roles.gallery == sorted(roles.gallery)
    assert not set(roles.probes) & set(roles.gallery)
    assert all(assignment.splits[i] == "test" for i in roles.probes + roles.gallery)


def test_face_split_draws_probes_per_identity_within_the_range(faces) -> None:
    _, items, assignment = faces
    by_id = {item.id: item.identity for item in items}
    per_identity: dict[str, int] = {}
    for probe in assignment.roles.probes:
        per_identity[by_id[probe]] = per_identity.get(by_id[probe], 0) + 1
    assert all(1 <= count <= 4 for count in per_identity.values())


def test_face_split_keeps_distractors_out_of_train_and_probes(faces) -> None:
    """One image per distractor identity, plus every face of no identity (-1)."""
    _, items, assignment = faces
    roles = assignment.roles
    by_id = {item.id: item.identity for item in items}
    train_identities = identities_of(items, [i for i, s in assignment.splits.items() if s == "train"])
    probe_identities = identities_of(items, roles.probes)
    labelled = [d for d in roles.distractors if by_id[d] != "-1"]
    assert len(labelled) == len(identities_of(items, labelled)) == 12
    assert not identities_of(items, labelled) & (train_identities | probe_identities)
    assert sorted(d for d in roles.distractors if by_id[d] == "-1") == sorted(
        item.id for item in items if item.identity == "-1")
    assert all(assignment.splits[d] == "test" for d in roles.distractors)


def test_face_split_has_seen_and_unseen_probe_identities(faces) -> None:
    _, items, assignment = faces
    train_identities = identities_of(items, [i for i, s in assignment.splits.items() if s == "train"])
    probe_identities = identities_of(items, assignment.roles.probes)
    seen = probe_identities & train_identities
    assert len(seen) == 4
    assert len(probe_identities - train_identities) == 6
    unlabelled = [item.id for item in items if item.identity == "-1"]
    assert all(assignment.splits[i] == "test" for i in unlabelled)  # distractors, never training


def test_face_split_pairs_use_only_identities_absent_from_training(faces) -> None:
    _, items, assignment = faces
    pairs = assignment.roles.pairs
    train_identities = identities_of(items, [i for i, s in assignment.splits.items() if s == "train"])
    by_id = {item.id: item.identity for item in items}
    assert sum(same for _, _, same in pairs) == 15
    assert sum(not same for _, _, same in pairs) == 15
    assert len({(a, b) for a, b, _ in pairs}) == 30
    for a, b, same in pairs:
        assert a < b
        assert assignment.splits[a] == assignment.splits[b] == "test"
        assert by_id[a] not in train_identities and by_id[b] not in train_identities
        assert (by_id[a] == by_id[b]) == same
    assert pairs == sorted(pairs)
    negative_identity_pairs = [frozenset((by_id[a], by_id[b])) for a, b, same in pairs if not same]
    assert len(set(negative_identity_pairs)) == len(negative_identity_pairs)


def test_face_split_positives_are_the_least_similar_and_negatives_the_most_similar(faces) -> None:
    folder, items, assignment = faces
    train_identities = identities_of(items, [i for i, s in assignment.splits.items() if s == "train"])
    eligible = [i for i in sorted(items, key=lambda i: i.id)
                if assignment.splits[i.id] == "test" and i.identity not in train_identities and i.identity != "-1"]
    features = face_features(eligible, folder)
    similarity = features @ features.T  # brute force over every pair
    index = {item.id: n for n, item in enumerate(eligible)}
    chosen = {(index[a], index[b]): same for a, b, same in assignment.roles.pairs}
    chosen_identity_pairs = {frozenset((eligible[i].identity, eligible[j].identity)) for (i, j), same in chosen.items() if not same}
    positives_chosen, positives_left, negatives_chosen, negatives_left = [], [], [], []
    for i, j in itertools.combinations(range(len(eligible)), 2):
        same = eligible[i].identity == eligible[j].identity
        if same:
            (positives_chosen if (i, j) in chosen else positives_left).append(similarity[i, j])
        elif (i, j) in chosen:
            negatives_chosen.append(similarity[i, j])
        elif frozenset((eligible[i].identity, eligible[j].identity)) not in chosen_identity_pairs:
            negatives_left.append(similarity[i, j])
    assert len(positives_chosen) == len(negatives_chosen) == 15
    assert positives_left and negatives_left
    tolerance = 1e-6
    assert max(positives_chosen) <= min(positives_left) + tolerance
    assert min(negatives_chosen) >= max(negatives_left) - tolerance


def test_face_split_is_deterministic(faces) -> None:
    folder, items, assignment = faces
    params = FaceIdentitiesParams.model_validate(FACE_PARAMS)
    again = face_identities_split(list(reversed(items)), params, 0, folder)
    assert again == assignment


def test_face_counts_scale_the_paper_counts() -> None:
    paper = FaceIdentitiesParams()
    assert (paper.seen_probe_identities, paper.unseen_probe_identities) == (1200, 800)
    assert (paper.distractor_identities, paper.verification_pairs) == (2500, 3000)
    tenth = face_counts(FaceIdentitiesParams(scale=0.1))
    assert (tenth.seen_probe_identities, tenth.unseen_probe_identities) == (120, 80)
    assert (tenth.distractor_identities, tenth.verification_pairs) == (250, 300)
    hundredth = face_counts(FaceIdentitiesParams(scale=0.01))
    assert (hundredth.seen_probe_identities + hundredth.unseen_probe_identities, hundredth.distractor_identities) == (20, 25)
    tiny = face_counts(FaceIdentitiesParams(scale=1e-5))
    assert (tiny.seen_probe_identities + tiny.unseen_probe_identities, tiny.distractor_identities, tiny.verification_pairs) == (2, 1, 1)


def test_face_split_applies_the_scale_to_every_count(tmp_path: Path) -> None:
    items = face_dataset(tmp_path, [6] * 30)
    params = FaceIdentitiesParams(scale=0.5, seen_probe_identities=8, unseen_probe_identities=8,
                                  probes_per_identity=(2, 2), distractor_identities=10, verification_pairs=8)
    roles = face_identities_split(items, params, 1, tmp_path).roles
    assert len(roles.probes) == 8 * 2
    assert len(roles.distractors) == 5 + 5  # one image per distractor identity, plus the five -1 faces
    assert len(roles.gallery) == 8 + 5 + 5
    assert len(roles.pairs) == 2 * 4


def test_face_split_names_the_spec_fields_when_identities_run_out(tmp_path: Path) -> None:
    items = face_dataset(tmp_path, [4] * 8)
    params = FaceIdentitiesParams(seen_probe_identities=2, unseen_probe_identities=2, distractor_identities=6,
                                  verification_pairs=2)
    with pytest.raises(ValueError, match=r"6 distractor identities .* only 4 remain; lower split.distractor_identities"):
        face_identities_split(items, params, 0, tmp_path)


def test_face_split_names_the_spec_field_when_pairs_run_out(tmp_path: Path) -> None:
    items = face_dataset(tmp_path, [4] * 8)
    params = FaceIdentitiesParams(seen_probe_identities=1, unseen_probe_identities=1, distractor_identities=2,
                                  verification_pairs=500)
    with pytest.raises(ValueError, match="lower split.verification_pairs"):
        face_identities_split(items, params, 0, tmp_path)


def test_identity_pair_maxima_match_brute_force_across_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(5)
    features = rng.normal(size=(40, 6))
    features /= np.linalg.norm(features, axis=1, keepdims=True)
    identities = [f"id{rng.integers(0, 9)}" for _ in range(40)]
    monkeypatch.setattr(hard_pairs, "BLOCK_ROWS", 7)
    names, maxima = identity_pair_maxima(features, identities)
    for a, b in itertools.product(range(len(names)), repeat=2):
        rows = [i for i, n in enumerate(identities) if n == names[a]]
        cols = [i for i, n in enumerate(identities) if n == names[b]]
        assert maxima[a, b] == pytest.approx(max(features[i] @ features[j] for i in rows for j in cols), abs=1e-6)


def test_holdout_count_reads_fractions_as_decimals() -> None:
    assert [holdout_count(10, 0.35), holdout_count(15, 0.3), holdout_count(20, 0.3), holdout_count(1, 0.3)] == [4, 5, 6, 0]
    assert [holdout_count(2, 0.9), holdout_count(3, 0.01)] == [1, 1]
