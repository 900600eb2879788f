"""Split methods: turn built items into a frozen protocol (splits and roles).

A split method is ``fn(items, params, seed, folder) -> SplitAssignment``; it
must be deterministic for the same items, params and seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, field_validator

from datasets.components import Component, Params
from datasets.hard_pairs import face_features, hardest_negatives, hardest_positives
from datasets.manifest import ManifestItem, Roles
from datasets.registry import Registry

SPLIT_METHODS: Registry[Component] = Registry("split method")


@dataclass(frozen=True)
class SplitAssignment:
    splits: dict[str, str]
    roles: Roles | None = None


def register_split(name: str, *, tasks: tuple[str, ...], params: type[Params]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        SPLIT_METHODS.add(name, Component(name=name, tasks=tasks, params_model=params, fn=fn))
        return fn

    return decorator


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


NO_IDENTITY = "-1"


class FaceIdentitiesParams(Params):
    """Counts are the iCartoonFace paper's (2000 probe identities giving about
    10,000 probes, 2500 distractor identities, 3000 + 3000 pairs); ``scale``
    shrinks all of them for smaller data."""

    scale: float = Field(1.0, gt=0, le=1)
    probe_identities: int = Field(2000, ge=1)
    seen_probe_fraction: float = Field(0.5, ge=0, le=1)
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


@dataclass(frozen=True)
class FaceCounts:
    seen_probe_identities: int
    unseen_probe_identities: int
    distractor_identities: int
    verification_pairs: int


def face_counts(params: FaceIdentitiesParams) -> FaceCounts:
    """Each paper count times ``scale``, rounded, at least one."""

    def scaled(count: int) -> int:
        return max(1, round_half_up(count * params.scale))

    probes = scaled(params.probe_identities)
    seen = round_half_up(probes * params.seen_probe_fraction)
    return FaceCounts(seen, probes - seen, scaled(params.distractor_identities), scaled(params.verification_pairs))


@register_split("face_identities", tasks=("identification_verification",), params=FaceIdentitiesParams)
def face_identities_split(
    items: list[ManifestItem], params: FaceIdentitiesParams, seed: int, folder: Path
) -> SplitAssignment:
    """Identities are shuffled, then taken in turn as seen probe identities
    (at least 3 images: gallery, probes, and some left for training), unseen
    probe identities (at least 2) and distractor identities; all others, and
    faces of no identity (``-1``), are training data.

    A probe identity gives one random image to the gallery and ``k`` in
    ``probes_per_identity`` (limited by what it has) as probes; a seen one
    keeps the rest in train, an unseen one keeps the rest in test, where they
    serve as verification material. Distractor identities go entirely to the
    gallery. Verification pairs are drawn from test faces of identities absent
    from training (unseen probe and distractor identities), see ``hard_pairs``.
    """
    ordered = sorted(items, key=lambda item: item.id)
    groups = _group_by(ordered, "identity")
    counts = face_counts(params)
    rng = np.random.default_rng(seed)
    candidates = sorted(name for name in groups if name != NO_IDENTITY)
    shuffled = [candidates[index] for index in rng.permutation(len(candidates))]
    taken: set[str] = set()
    seen = _pick(shuffled, groups, taken, counts.seen_probe_identities, 3, "seen probe identities",
                 "split.probe_identities, split.seen_probe_fraction and split.scale")
    unseen = _pick(shuffled, groups, taken, counts.unseen_probe_identities, 2, "unseen probe identities",
                   "split.probe_identities, split.seen_probe_fraction and split.scale")
    distractors = _pick(shuffled, groups, taken, counts.distractor_identities, 1, "distractor identities",
                        "split.distractor_identities and split.scale")

    splits = {item.id: "train" for item in ordered}
    probes: list[str] = []
    gallery: list[str] = []
    low, high = params.probes_per_identity
    seen_names = set(seen)
    for identity in seen + unseen:
        ids = [groups[identity][index] for index in rng.permutation(len(groups[identity]))]
        spare = len(ids) - 1 - (1 if identity in seen_names else 0)
        wanted = min(int(rng.integers(low, high + 1)), spare)
        gallery.append(ids[0])
        probes.extend(ids[1:1 + wanted])
        kept_in_test = ids[: 1 + wanted] if identity in seen_names else ids
        splits.update({item_id: "test" for item_id in kept_in_test})
    for identity in distractors:
        gallery.extend(groups[identity])
        splits.update({item_id: "test" for item_id in groups[identity]})
    if "train" not in splits.values():
        raise ValueError("split: no training faces left; lower split.probe_identities, split.distractor_identities or split.scale")

    absent_from_train = set(unseen) | set(distractors)
    eligible = [item for item in ordered if splits[item.id] == "test" and item.identity in absent_from_train]
    pairs = verification_pairs(eligible, counts.verification_pairs, folder)
    return SplitAssignment(splits, Roles(sorted(probes), sorted(gallery), pairs))


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
    sizes = [len(ids) for ids in _group_by(eligible, "identity").values()]
    positives_available = sum(size * (size - 1) // 2 for size in sizes)
    negatives_available = len(sizes) * (len(sizes) - 1) // 2
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
