"""Frozen manifests (DESIGN.md §6): one JSON object per line, sorted by id.

The manifest of a built benchmark is the evaluator's source of truth; the
protocol hash (spec hash + manifest hash + roles hash) is recorded with every
result.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

MANIFEST_NAME = "manifest.jsonl"
ROLES_NAME = "roles.json"
PROTOCOL_NAME = "protocol.json"
SPLITS = ("train", "test")
NOISY_SPLIT = "noisy"  # training material outside the benchmark's own split (the illustration noisy set)
DOMAINS = ("photo", "cartoon")


@dataclass(frozen=True)
class ManifestItem:
    """One image of a benchmark with its truth.

    ``sha256`` and ``split`` are empty while a generator or adapter produces
    items; building the benchmark fills them in. Each task type declares which
    field holds its truth (``label``, ``identity``, ``domain``, or the numeric
    ``target`` of a regression task); a field that is None is left out of the
    line, so a new truth field never changes the bytes of existing manifests.
    ``subset`` says which part of a release an image came from (for example
    the face or scenery photos of cartoonization); like the truth it stays on
    the evaluator side for test items. A ``split`` of ``NOISY_SPLIT`` marks
    extra training material whose labels may be wrong and may name classes
    outside the benchmark's (the illustration paper's noisy set): only
    training reads it, and it is never held out. ``part`` names the held-out
    part (``datasets.phases``) a test item is scored in, for specs that divide
    their held-out split; left out of the line when None, like the truth.
    """

    id: str
    path: str
    sha256: str = ""
    split: str = ""
    label: str | None = None
    identity: str | None = None
    box: tuple[int, int, int, int] | None = None
    domain: str | None = None
    target: float | None = None
    subset: str | None = None
    part: str | None = None

    def to_json(self) -> dict[str, Any]:
        record: dict[str, Any] = {"id": self.id, "path": self.path, "sha256": self.sha256, "split": self.split}
        for key in ("label", "identity", "domain", "target", "subset", "part"):
            value = getattr(self, key)
            if value is not None:
                record[key] = value
        if self.box is not None:
            record["box"] = [int(v) for v in self.box]
        return record

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> "ManifestItem":
        box = record.get("box")
        return cls(
            id=str(record["id"]),
            path=str(record["path"]),
            sha256=str(record.get("sha256", "")),
            split=str(record.get("split", "")),
            label=record.get("label"),
            identity=None if record.get("identity") is None else str(record["identity"]),
            box=None if box is None else tuple(int(v) for v in box),
            domain=record.get("domain"),
            target=None if record.get("target") is None else float(record["target"]),
            subset=record.get("subset"),
            part=record.get("part"),
        )

    def with_split(self, split: str) -> "ManifestItem":
        return replace(self, split=split)


@dataclass(frozen=True)
class Roles:
    """icartoonface evaluation roles (evaluator side only, never in a container).

    Each probe is ranked against ``distractors`` plus its own gallery image
    ``probe_gallery[probe]``; ``gallery`` is the union of both.
    """

    probes: list[str] = field(default_factory=list)
    gallery: list[str] = field(default_factory=list)
    pairs: list[tuple[str, str, bool]] = field(default_factory=list)
    probe_gallery: dict[str, str] = field(default_factory=dict)
    distractors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "probes": self.probes, "gallery": self.gallery, "pairs": [[a, b, bool(s)] for a, b, s in self.pairs],
            "probe_gallery": dict(sorted(self.probe_gallery.items())), "distractors": self.distractors,
        }

    def restricted(self, ids: set[str]) -> "Roles":
        """The roles among ``ids`` only: probes whose gallery image is there too (any probe there, for roles
        written before probes had their own gallery image), the distractors there, and the pairs both of
        whose images are there."""
        probe_gallery = {p: g for p, g in self.probe_gallery.items() if p in ids and g in ids}
        return Roles(
            probes=[p for p in self.probes if p in probe_gallery or (p in ids and not self.probe_gallery)],
            gallery=[g for g in self.gallery if g in ids],
            pairs=[(a, b, same) for a, b, same in self.pairs if a in ids and b in ids],
            probe_gallery=probe_gallery,
            distractors=[d for d in self.distractors if d in ids],
        )

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> "Roles":
        return cls(
            probes=[str(i) for i in record["probes"]],
            gallery=[str(i) for i in record["gallery"]],
            pairs=[(str(a), str(b), bool(s)) for a, b, s in record["pairs"]],
            probe_gallery={str(p): str(g) for p, g in record.get("probe_gallery", {}).items()},
            distractors=[str(i) for i in record.get("distractors", [])],
        )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_bytes(items: Iterable[ManifestItem]) -> bytes:
    ordered = sorted(items, key=lambda item: item.id)
    lines = [json.dumps(item.to_json(), sort_keys=True, separators=(",", ":")) for item in ordered]
    return ("\n".join(lines) + "\n").encode()


def roles_bytes(roles: Roles) -> bytes:
    return (json.dumps(roles.to_json(), sort_keys=True, separators=(",", ":")) + "\n").encode()


def write_manifest(folder: Path, items: Iterable[ManifestItem]) -> Path:
    path = folder / MANIFEST_NAME
    path.write_bytes(manifest_bytes(items))
    return path


def read_manifest(folder: Path) -> list[ManifestItem]:
    """Read ``<folder>/manifest.jsonl``; errors name the file and line."""
    path = folder / MANIFEST_NAME
    if not path.exists():
        raise FileNotFoundError(f"{path}: no manifest; build the benchmark first (python -m datasets build)")
    items = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(ManifestItem.from_json(json.loads(line)))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}:{number}: bad manifest line ({exc})") from None
    return items


def write_roles(folder: Path, roles: Roles) -> Path:
    path = folder / ROLES_NAME
    path.write_bytes(roles_bytes(roles))
    return path


def read_roles(folder: Path) -> Roles:
    path = folder / ROLES_NAME
    if not path.exists():
        raise FileNotFoundError(f"{path}: no roles file; build the benchmark first")
    return Roles.from_json(json.loads(path.read_text()))


def protocol_hash(spec_hash: str, manifest: bytes, roles: bytes | None = None) -> str:
    """The protocol version every result records."""
    digest = hashlib.sha256()
    digest.update(spec_hash.encode())
    digest.update(hashlib.sha256(manifest).hexdigest().encode())
    if roles is not None:
        digest.update(hashlib.sha256(roles).hexdigest().encode())
    return digest.hexdigest()
