"""Competition phases a benchmark spec may declare, and the parts of the held-out split they score on.

Two kinds of setting live here, and only one is protocol:

- ``heldout_parts`` divides the held-out split (a fraction of it each, drawn
  with a seed keyed like the split itself) and says whether a part's inputs
  are ``public`` (predictions allowed, images in the protocol bundle) or
  ``hidden`` (container submissions only, the images in no bundle and no
  page). Which item is in which part decides what a score means, so the
  parts are hashed with the spec and recorded in the manifest.
- ``phases`` are competition settings: dates (UTC), quotas, leaderboard
  visibility, which entry of a team ranks, wording. A host changes them
  without a rebuild, so they stay out of the protocol hash.

A spec without parts has one held-out part, ``test``, the whole held-out
split; a spec without phases behaves as one open phase over it, with the
spec's daily limit.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timezone
from enum import Enum

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from datasets.manifest import ManifestItem

WHOLE_HELDOUT = "test"  # the one part of a spec that declares none
FRACTION_TOLERANCE = 1e-9


class Inputs(str, Enum):
    public = "public"
    hidden = "hidden"


class Visibility(str, Enum):
    """Who sees a phase's leaderboard: everyone; everyone once the phase has closed (or a host revealed it);
    hosts only; or everyone through the Ladder, which shows a team a new score only when it beats
    the team's best by more than the phase's step."""

    public = "public"
    hidden_until_close = "hidden_until_close"
    private = "private"
    ladder = "ladder"


class EntryRule(str, Enum):
    """Which of a team's finished submissions is its row: the best by the rank metric, the latest, or the
    one it chose."""

    best = "best"
    latest = "latest"
    chosen = "chosen"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HeldOutPart(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    fraction: float = Field(gt=0, le=1)
    inputs: Inputs = Inputs.public


class Phase(_Strict):
    slug: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    title: str
    split: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    opens: datetime
    closes: datetime
    submissions_per_day: int | None = Field(None, gt=0)
    submissions_total: int | None = Field(None, gt=0)
    leaderboard: Visibility = Visibility.public
    entry: EntryRule = EntryRule.best
    ladder_step: float = Field(0.01, gt=0)

    @field_validator("opens", "closes", mode="after")
    @classmethod
    def _utc(cls, moment: datetime) -> datetime:
        """Dates are UTC: a date without a zone is read as UTC, one with another zone is converted."""
        return as_utc(moment)


def as_utc(moment: datetime) -> datetime:
    """A moment in UTC; one without a zone is read as UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def part_names(parts: list[HeldOutPart]) -> list[str]:
    """The names a phase's ``split`` may take."""
    return [part.name for part in parts] or [WHOLE_HELDOUT]


def check_phases(phases: list[Phase], parts: list[HeldOutPart]) -> None:
    """Cross-checks a spec's parts and phases; raises ``ValueError`` as ``<field path>: <problem>``."""
    names = [part.name for part in parts]
    if len(set(names)) != len(names):
        raise ValueError(f"heldout_parts: part names must be unique, got {names}")
    total = sum(part.fraction for part in parts)
    if parts and abs(total - 1.0) > FRACTION_TOLERANCE:
        raise ValueError(f"heldout_parts: the parts' fractions must add up to 1, got {total:g}")
    slugs = [phase.slug for phase in phases]
    if len(set(slugs)) != len(slugs):
        raise ValueError(f"phases: phase slugs must be unique, got {slugs}")
    known = part_names(parts)
    for index, phase in enumerate(phases):
        if phase.split not in known:
            raise ValueError(
                f"phases.{index}.split: {phase.split!r} is not a part of the held-out split "
                f"(expected one of {', '.join(known)})"
            )
        if phase.closes <= phase.opens:
            raise ValueError(
                f"phases.{index}.closes: {phase.closes.isoformat()} must be after opens ({phase.opens.isoformat()})"
            )
    overlap = first_overlap([(phase.slug, phase.opens, phase.closes) for phase in phases])
    if overlap is not None:
        raise ValueError(f"phases.{slugs.index(overlap[1])}.opens: {overlap[2]}")


def first_overlap(windows: list[tuple[str, datetime, datetime]]) -> tuple[str, str, str] | None:
    """The first pair of (slug, opens, closes) windows that overlap, as (earlier, later, why); None if none."""
    ordered = sorted(windows, key=lambda window: window[1])
    for (first, _, first_closes), (second, second_opens, _) in zip(ordered, ordered[1:]):
        if second_opens < first_closes:
            why = (f"phase {second!r} opens ({second_opens.isoformat()}) before phase {first!r} closes "
                   f"({first_closes.isoformat()}); phases must not overlap")
            return first, second, why
    return None


def assign_parts(items: list[ManifestItem], parts: list[HeldOutPart], seed: int) -> dict[str, str]:
    """Held-out item id -> part name, deterministic for the same items, parts and seed.

    Items of one identity stay together (a probe with its gallery image);
    within each class (or all items, without classes) the groups are
    shuffled and cut at the parts' cumulative fractions, so every part gets
    its share of every class. ``ValueError`` names a part that gets nothing.
    """
    strata: dict[str, set[str]] = defaultdict(set)
    for item in items:
        strata[item.label or ""].add(_group_of(item))
    rng = np.random.default_rng(seed)
    part_of_group: dict[str, str] = {}
    for stratum in sorted(strata):
        groups = sorted(strata[stratum])
        order = rng.permutation(len(groups))
        start, cumulative = 0, 0.0
        for part in parts:
            cumulative += part.fraction
            end = len(groups) if part is parts[-1] else int(round(cumulative * len(groups)))
            part_of_group.update({groups[index]: part.name for index in order[start:end]})
            start = end
    assignment = {item.id: part_of_group[_group_of(item)] for item in items}
    for index, part in enumerate(parts):
        if part.name not in assignment.values():
            raise ValueError(
                f"heldout_parts.{index}.fraction: part {part.name!r} gets none of the {len(items)} held-out items; "
                "raise its fraction"
            )
    return assignment


def _group_of(item: ManifestItem) -> str:
    """Items that must share a part: one identity's images; any other item is its own group."""
    if item.identity is not None and item.identity != "-1":
        return f"identity:{item.identity}"
    return f"item:{item.id}"
