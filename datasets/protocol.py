"""Split methods: turn built items into a frozen protocol (splits and roles).

A split method is ``fn(items, params, seed, folder) -> SplitAssignment``; it
must be deterministic for the same items, params and seed.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, field_validator

from datasets.components import Component, NoParams, Params
from datasets.hard_pairs import face_features, hardest_negatives, hardest_positives
from datasets.manifest import SPLITS, ManifestItem, Roles
from datasets.registry import Registry

SPLIT_METHODS: Registry[Component] = Registry("split method")


@dataclass(frozen=True)
class SplitAssignment:
    splits: dict[str, str]
    roles: Roles | None = None


def register_split(name: str, *, tasks: tuple[str, ...], params: type[Params]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return SPLIT_METHODS.register_with(name, lambda fn: Component(name=name, tasks=tasks, params_model=params, fn=fn))


def round_half_up(value: float) -> int:
    """``round`` as taught in school (2.5 -> 3), unlike Python's banker's rounding.

    The value is first rounded to 9 decimals so that ``10 * 0.35`` (3.4999...
    in binary floating point) counts as the 3.5 the spec means.
    """
    return int(math.floor(round(value, 9) + 0.5))


def holdout_count(size: int, fraction: float) -> int:
    """Test items taken from a group of ``size``: ``round(size * fraction)``,
    at least one and at most ``size - 1`` when the group has two or more."""
    count = round_half_up(size * fraction)
    return min(max(count, 1), size - 1) if size >= 2 else count


def _holdout(groups: dict[str, list[str]], fraction: float, seed: int) -> dict[str, str]:
    """Split each group's ids (sorted first) at random; groups visited in sorted order."""
    rng = np.random.default_rng(seed)
    splits: dict[str, str] = {}
    for name in sorted(groups):
        ids = sorted(groups[name])
        test = set(rng.permutation(len(ids))[: holdout_count(len(ids), fraction)].tolist())
        splits.update({item_id: "test" if index in test else "train" for index, item_id in enumerate(ids)})
    return splits


def _group_by(items: list[ManifestItem], field: str) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for item in items:
        value = getattr(item, field)
        if value is None:
            raise ValueError(f"item {item.id} has no {field}; the split method needs one on every item")
        groups.setdefault(str(value), []).append(item.id)
    return groups


class HoldoutParams(Params):
    test_fraction: float = Field(gt=0, lt=1)


@register_split("stratified", tasks=("classification",), params=HoldoutParams)
def stratified_split(items: list[ManifestItem], params: HoldoutParams, seed: int, folder: Path) -> SplitAssignment:
    """Per class, ``holdout_count(n_c, test_fraction)`` random items go to test."""
    return SplitAssignment(_holdout(_group_by(items, "label"), params.test_fraction, seed))


@register_split("domain_holdout", tasks=("translation",), params=HoldoutParams)
def domain_holdout_split(items: list[ManifestItem], params: HoldoutParams, seed: int, folder: Path) -> SplitAssignment:
    """Photos and cartoons are each split by ``test_fraction``: test photos are the
    container's inputs, test cartoons the FID reference set."""
    return SplitAssignment(_holdout(_group_by(items, "domain"), params.test_fraction, seed))


@register_split("published", tasks=("classification",), params=NoParams)
def published_split(items: list[ManifestItem], params: NoParams, seed: int, folder: Path) -> SplitAssignment:
    """The split the dataset's authors published, as the adapter read it (each item's ``split``), kept as it is.

    Both splits must hold items, and every class tested must also be trained on.
    """
    ordered = sorted(items, key=lambda item: item.id)
    unsplit = [item for item in ordered if item.split not in SPLITS]
    if unsplit:
        raise ValueError(
            f"split: item {unsplit[0].id} has no published split ({len(unsplit)} items without one); the published "
            "split is read from the release (an adapter with split folders, built with --source real)"
        )
    for name in SPLITS:
        if not any(item.split == name for item in ordered):
            raise ValueError(f"split: the published {name} split holds no items")
    trained = {item.label for item in ordered if item.split == "train"}
    untrained = sorted({str(item.label) for item in ordered if item.split == "test" and item.label not in trained})
    if untrained:
        raise ValueError(f"split: classes {', '.join(untrained)} are in the published test split but not in train")
    return SplitAssignment({item.id: item.split for item in ordered})


NO_IDENTITY = "-1"


class FaceIdentitiesParams(Params):
    """Counts are the iCartoonFace paper's: 2,000 probe identities (1,200 also seen in
    training, 800 not) with 3 to 7 probes each, 2,500 distractor identities of one image
    each, 3,000 + 3,000 verification pairs. ``scale`` shrinks them for the synthetic
    stand-in only: a real build always uses the paper's counts (``for_source``)."""

    scale: float = Field(1.0, gt=0, le=1, description="synthetic builds only")
    seen_probe_identities: int = Field(1200, ge=0)
    unseen_probe_identities: int = Field(800, ge=0)
    probes_per_identity: tuple[int, int] = (3, 7)
    distractor_identities: int = Field(2500, ge=1)
    verification_pairs: int = Field(3000, ge=1)

    @field_validator("probes_per_identity")
    @classmethod
    def _check_range(cls, value: tuple[int, int]) -> tuple[int, int]:
        low, high = value
        if low < 1 or high < low:
            raise ValueError(f"expected [min, max] with 1 <= min <= max, got [{low}, {high}]")
        return value


def params_for_source(params: Params, source: str) -> Params:
    """The split parameters a build from ``source`` uses: ``scale`` is for synthetic data only."""
    if isinstance(params, FaceIdentitiesParams) and source == "real":
        return params.model_copy(update={"scale": 1.0})
    return params


@dataclass(frozen=True)
class FaceCounts:
    seen_probe_identities: int
    unseen_probe_identities: int
    distractor_identities: int
    verification_pairs: int


def face_counts(params: FaceIdentitiesParams) -> FaceCounts:
    """Each paper count times ``scale``, rounded, at least one (zero stays zero)."""

    def scaled(count: int) -> int:
        return max(1, round_half_up(count * params.scale)) if count else 0

    return FaceCounts(scaled(params.seen_probe_identities), scaled(params.unseen_probe_identities),
                      scaled(params.distractor_identities), scaled(params.verification_pairs))


@dataclass(frozen=True)
class FaceRoles:
    """The identification part of the iCartoonFace protocol (no images needed)."""

    splits: dict[str, str]
    probe_gallery: dict[str, str]
    distractors: list[str]
    absent_from_train: set[str]


def face_identity_roles(items: list[ManifestItem], params: FaceIdentitiesParams, seed: int) -> FaceRoles:
    """Identities are shuffled, then taken in turn as seen probe identities (at least 3
    images: gallery, probes, and at least one for training), unseen probe identities (at
    least 2) and distractor identities.

    A probe identity gives one random image to the gallery and ``k`` in
    ``probes_per_identity`` (limited by what it has) as probes; a seen one keeps the rest
    in train, an unseen one keeps the rest in test. A distractor identity gives one random
    image to the distractors and keeps the rest in test (verification material). Faces of
    no identity (``-1``) are distractors too, never training. All other identities train.
    """
    ordered = sorted(items, key=lambda item: item.id)
    groups = _group_by(ordered, "identity")
    counts = face_counts(params)
    rng = np.random.default_rng(seed)
    candidates = sorted(name for name in groups if name != NO_IDENTITY)
    shuffled = [candidates[index] for index in rng.permutation(len(candidates))]
    taken: set[str] = set()
    probe_fields = "split.seen_probe_identities, split.unseen_probe_identities and split.scale"
    seen = _pick(shuffled, groups, taken, counts.seen_probe_identities, 3, "seen probe identities", probe_fields)
    unseen = _pick(shuffled, groups, taken, counts.unseen_probe_identities, 2, "unseen probe identities", probe_fields)
    distractor_identities = _pick(shuffled, groups, taken, counts.distractor_identities, 1, "distractor identities",
                                  "split.distractor_identities and split.scale")

    splits = {item.id: "train" for item in ordered}
    probe_gallery: dict[str, str] = {}
    low, high = params.probes_per_identity
    seen_names = set(seen)
    for identity in seen + unseen:
        ids = [groups[identity][index] for index in rng.permutation(len(groups[identity]))]
        spare = len(ids) - 1 - (1 if identity in seen_names else 0)
        wanted = min(int(rng.integers(low, high + 1)), spare)
        probe_gallery.update({probe: ids[0] for probe in ids[1:1 + wanted]})
        kept_in_test = ids[: 1 + wanted] if identity in seen_names else ids
        splits.update({item_id: "test" for item_id in kept_in_test})
    distractors = []
    for identity in distractor_identities:
        ids = groups[identity]
        distractors.append(ids[int(rng.integers(len(ids)))])
        splits.update({item_id: "test" for item_id in ids})
    unlabelled = groups.get(NO_IDENTITY, [])
    distractors.extend(unlabelled)
    splits.update({item_id: "test" for item_id in unlabelled})
    if "train" not in splits.values():
        raise ValueError("split: no training faces left; lower the split's identity counts or split.scale")
    return FaceRoles(splits, probe_gallery, sorted(distractors), set(unseen) | set(distractor_identities))


@register_split("face_identities", tasks=("identification_verification",), params=FaceIdentitiesParams)
def face_identities_split(
    items: list[ManifestItem], params: FaceIdentitiesParams, seed: int, folder: Path
) -> SplitAssignment:
    """The iCartoonFace protocol built from identities (``face_identity_roles``), plus hard
    verification pairs drawn from test faces of identities absent from training."""
    roles = face_identity_roles(items, params, seed)
    ordered = sorted(items, key=lambda item: item.id)
    eligible = [item for item in ordered
                if roles.splits[item.id] == "test" and item.identity in roles.absent_from_train]
    pairs = verification_pairs(eligible, face_counts(params).verification_pairs, folder)
    return SplitAssignment(roles.splits, _roles(roles.probe_gallery, roles.distractors, pairs))


def _roles(probe_gallery: dict[str, str], distractors: list[str], pairs: list[tuple[str, str, bool]]) -> Roles:
    gallery = sorted(set(distractors) | set(probe_gallery.values()))
    return Roles(sorted(probe_gallery), gallery, pairs, dict(sorted(probe_gallery.items())), sorted(distractors))


OFFICIAL_ROLES = ("train", "probe", "gallery", "distractor", "test")


class OfficialFaceParams(FaceIdentitiesParams):
    """The release fixes train, probes, gallery and distractors; only ``verification_pairs``
    applies (the identity counts are accepted so a profile can switch the method)."""


@register_split("icartoonface_official", tasks=("identification_verification",), params=OfficialFaceParams)
def icartoonface_official_split(
    items: list[ManifestItem], params: OfficialFaceParams, seed: int, folder: Path
) -> SplitAssignment:
    """The authors' test set as published: the ``icartoonface`` adapter (``protocol: official``)
    marks every face with its role in ``split``; each probe is ranked against the ``-1``
    distractors and its listed gallery image. Verification pairs are the hardest of test
    identities absent from training, as many as the release allows up to ``verification_pairs``."""
    ordered = sorted(items, key=lambda item: item.id)
    wrong = [item for item in ordered if item.split not in OFFICIAL_ROLES]
    if wrong:
        raise ValueError(f"split: item {wrong[0].id} has no published role; the official protocol is read from "
                         "the iCartoonFace release (build with --source real and dataset.options.protocol: official)")
    gallery_of = {str(item.identity): item.id for item in ordered if item.split == "gallery"}
    probe_gallery = {item.id: gallery_of[str(item.identity)] for item in ordered if item.split == "probe"}
    distractors = [item.id for item in ordered if item.split == "distractor"]
    splits = {item.id: "train" if item.split == "train" else "test" for item in ordered}
    trained = {item.identity for item in ordered if item.split == "train"}
    eligible = [item for item in ordered
                if item.split != "train" and item.identity != NO_IDENTITY and item.identity not in trained]
    found = len({item.identity for item in eligible})
    count = min(params.verification_pairs, *_pair_supply(eligible))
    print(f"icartoonface official: {found} test identities absent from training; "
          f"{count} positive and {count} negative verification pairs", file=sys.stderr)
    if count == 0:
        raise ValueError("split: the release has no test identities absent from training with two or more "
                         "images, so no verification pairs can be built")
    return SplitAssignment(splits, _roles(probe_gallery, distractors, verification_pairs(eligible, count, folder)))


def _pair_supply(eligible: list[ManifestItem]) -> tuple[int, int]:
    """Same-identity pairs and identity pairs that ``eligible`` offers."""
    sizes = [len(ids) for ids in _group_by(eligible, "identity").values()] if eligible else []
    return sum(size * (size - 1) // 2 for size in sizes), len(sizes) * (len(sizes) - 1) // 2


def _pick(
    shuffled: list[str], groups: dict[str, list[str]], taken: set[str], count: int, min_images: int, what: str, fields: str
) -> list[str]:
    """The next ``count`` identities in shuffled order with at least ``min_images`` images."""
    available = [name for name in shuffled if name not in taken and len(groups[name]) >= min_images]
    if len(available) < count:
        raise ValueError(
            f"split: {count} {what} (each with at least {min_images} images) are needed but only "
            f"{len(available)} remain; lower {fields}, or provide more identities"
        )
    chosen = available[:count]
    taken.update(chosen)
    return chosen


def verification_pairs(eligible: list[ManifestItem], count: int, folder: Path) -> list[tuple[str, str, bool]]:
    """``count`` hardest positives and ``count`` hardest negatives among ``eligible``
    (sorted by id), as ``(id_a, id_b, same)`` with ``id_a < id_b``, sorted."""
    identities = [str(item.identity) for item in eligible]
    positives_available, negatives_available = _pair_supply(eligible)
    if positives_available < count or negatives_available < count:
        raise ValueError(
            f"split: {count} positive and {count} negative verification pairs are needed but identities absent "
            f"from training offer only {positives_available} same-identity pairs and {negatives_available} "
            f"identity pairs; lower split.verification_pairs or raise split.distractor_identities"
        )
    features = face_features(eligible, folder)
    positives = hardest_positives(features, identities, count)
    negatives = hardest_negatives(features, identities, count)
    pairs = [(eligible[i].id, eligible[j].id, True) for i, j in positives]
    pairs += [(eligible[i].id, eligible[j].id, False) for i, j in negatives]
    return sorted(pairs)
