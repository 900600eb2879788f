"""Build a benchmark folder (DESIGN.md §6) from real data or the synthetic stand-in.

``build_benchmark`` writes ``<root>/<slug>/images/...``, ``manifest.jsonl``,
``roles.json`` (when the split method makes roles) and ``protocol.json``
(slug, profile, source, hashes and whether a build secret keyed it: a
server split, or the public development split). ``load_built`` reads a
built folder back and checks that it still matches its spec.

Items that a generator or adapter marks ``noisy`` (a training-only set such
as the illustration paper's noisy one) skip the split method: they are
written to the manifest, and so hashed, as they are, and never held out.

A spec that declares ``heldout_parts`` has its held-out items divided among
them (``datasets.phases.assign_parts``, seeded like the split, so keyed by
the build secret too); each test item records its part in the manifest.
``BuiltBenchmark.part`` narrows a build to one part, which is what a phase
scores, and ``without_hidden`` to what may be shown (the bundle's view).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from PIL import Image

from datasets.adapters import ADAPTERS
from datasets.generators import GENERATORS
from datasets.manifest import (
    NOISY_SPLIT,
    PROTOCOL_NAME,
    ManifestItem,
    Roles,
    file_sha256,
    manifest_bytes,
    protocol_hash,
    read_manifest,
    read_roles,
    roles_bytes,
    write_manifest,
    write_roles,
)
from datasets.phases import WHOLE_HELDOUT, assign_parts
from datasets.protocol import SPLIT_METHODS, params_for_source
from datasets.secret import key_id, keyed_id, keyed_seed
from datasets.spec import load_spec
from datasets.spec_models import BenchmarkSpec

Source = Literal["auto", "synthetic", "real"]


@dataclass(frozen=True)
class BuiltBenchmark:
    folder: Path
    spec: BenchmarkSpec
    items: list[ManifestItem]
    roles: Roles | None
    protocol_hash: str
    source: str
    keyed: bool = False

    def test_items(self) -> list[ManifestItem]:
        return [item for item in self.items if item.split == "test"]

    def train_items(self) -> list[ManifestItem]:
        return [item for item in self.items if item.split == "train"]

    def noisy_items(self) -> list[ManifestItem]:
        """The noisy training set (``NOISY_SPLIT``): more classes than the benchmark's, some labels wrong; may be empty."""
        return [item for item in self.items if item.split == NOISY_SPLIT]

    def part(self, name: str | None) -> "BuiltBenchmark":
        """The build with only the held-out items of part ``name`` (None, or ``test`` without parts: all of them).

        Training items stay; the roles keep what lies within the part. The
        protocol hash is the build's: a result says which part it scored.
        """
        names = [part.name for part in self.spec.heldout_parts]
        if name is None or (not names and name == WHOLE_HELDOUT):
            return self
        if name not in names:
            expected = ", ".join(names) or WHOLE_HELDOUT
            raise ValueError(f"benchmark {self.spec.slug!r} has no held-out part {name!r} (expected one of {expected})")
        return self._with_test_items({item.id for item in self.test_items() if item.part == name})

    def without_hidden(self) -> "BuiltBenchmark":
        """The build less the held-out items of hidden parts: what a bundle or a page may show."""
        hidden = self.spec.hidden_parts()
        if not hidden:
            return self
        return self._with_test_items({item.id for item in self.test_items() if item.part not in hidden})

    def _with_test_items(self, kept: set[str]) -> "BuiltBenchmark":
        items = [item for item in self.items if item.split != "test" or item.id in kept]
        roles = self.roles.restricted(kept) if self.roles is not None else None
        return replace(self, items=items, roles=roles)


def choose_source(spec: BenchmarkSpec, source: Source) -> str:
    if source != "auto":
        return source
    root = spec.data_root()
    return "real" if root is not None and root.is_dir() else "synthetic"


def build_benchmark(
    spec_or_slug: BenchmarkSpec | str,
    root: Path,
    profile: str = "default",
    source: Source = "auto",
    force: bool = False,
    secret: str | None = None,
) -> BuiltBenchmark:
    """Build (or reuse, when already built from the same protocol) a benchmark.

    Without ``secret`` this is the public development split: the spec's seeds
    as they are, so anyone holding the spec rebuilds it byte for byte, test
    truth included. With it, the server split: every seed is keyed by the
    secret (``datasets.secret``), so the held-out truth cannot be rebuilt from
    anything public. The same spec, profile and secret always give the same
    bytes.
    """
    spec = spec_or_slug if isinstance(spec_or_slug, BenchmarkSpec) else load_spec(spec_or_slug, profile)
    chosen = choose_source(spec, source)
    folder = Path(root) / spec.slug
    keying = key_record(secret)
    if not force and _is_current(folder, spec, chosen, keying):
        return load_built(spec.slug, root)
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "images").mkdir(parents=True)

    if chosen == "real":
        data_root = spec.data_root()
        if data_root is None or not data_root.is_dir():
            raise FileNotFoundError(f"{spec.source_path}: dataset.root {spec.dataset.root!r} is not a folder here")
        adapter = ADAPTERS.get(spec.dataset.adapter)
        raw_items = adapter.fn(data_root, spec.dataset.options, spec.classes, folder)
        if secret is not None:
            raw_items = [_rekeyed(item, folder, secret) for item in raw_items]
    else:
        generator = GENERATORS.get(spec.dataset.synthetic.generator)
        seed = keyed_seed(spec.dataset.synthetic.seed, secret, "synthetic")
        raw_items = generator.fn(spec.dataset.synthetic.params, spec.classes, seed, folder)
        if generator.noisy is not None:
            raw_items += generator.noisy(spec.dataset.synthetic.params, spec.classes, seed, folder)

    hashed = [_with_sha256(item, folder) for item in raw_items]
    noisy = [item for item in hashed if item.split == NOISY_SPLIT]
    splittable = [item for item in hashed if item.split != NOISY_SPLIT]
    split = spec.split_for(chosen)
    method = SPLIT_METHODS.get(split.method)
    split_params = params_for_source(split.params, chosen)
    assignment = method.fn(splittable, split_params, keyed_seed(split.seed, secret, "split"), folder)
    split_items = with_parts(spec, [item.with_split(assignment.splits[item.id]) for item in splittable],
                             keyed_seed(split.seed, secret, "parts"))
    items = sorted(split_items + noisy, key=lambda i: i.id)
    write_manifest(folder, items)
    if assignment.roles is not None:
        write_roles(folder, assignment.roles)
    digest = protocol_hash(
        spec.spec_hash(), manifest_bytes(items), roles_bytes(assignment.roles) if assignment.roles else None
    )
    record = {"slug": spec.slug, "profile": spec.profile, "source": chosen, "spec_hash": spec.spec_hash(),
              "protocol_hash": digest, **keying}
    resolution = fid_resolution(folder, items)
    if resolution is not None:
        record["fid_resolution"] = resolution
    (folder / PROTOCOL_NAME).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    return BuiltBenchmark(folder, spec, items, assignment.roles, digest, chosen, secret is not None)


def with_parts(spec: BenchmarkSpec, items: list[ManifestItem], seed: int) -> list[ManifestItem]:
    """``items`` with each held-out one's part recorded (unchanged for a spec without parts)."""
    if not spec.heldout_parts:
        return items
    test = [item for item in items if item.split == "test"]
    try:
        parts = assign_parts(test, spec.heldout_parts, seed)
    except ValueError as exc:
        raise ValueError(f"{spec.source_path}: {exc}") from None
    return [replace(item, part=parts[item.id]) if item.id in parts else item for item in items]


def fid_resolution(folder: Path, items: list[ManifestItem]) -> int | None:
    """The side of the square images that translation material (items with a domain) is prepared at,
    hence compared at by FID; None for other benchmarks. Mixed sizes are an error."""
    sizes = {_image_size(folder / item.path) for item in items if item.domain is not None}
    if not sizes:
        return None
    if len(sizes) != 1 or len({*next(iter(sizes))}) != 1:
        raise ValueError(f"{folder}: translation images must all be one square size, found {sorted(sizes)}")
    return next(iter(sizes))[0]


def _image_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def key_record(secret: str | None) -> dict[str, object]:
    """What ``protocol.json`` says of the keying: whether there was a secret, and which (never the secret)."""
    return {"keyed": True, "key_id": key_id(secret)} if secret is not None else {"keyed": False}


def _with_sha256(item: ManifestItem, folder: Path) -> ManifestItem:
    return replace(item, sha256=file_sha256(folder / item.path))


def _rekeyed(item: ManifestItem, folder: Path, secret: str) -> ManifestItem:
    """A real item under its keyed id: an adapter's ids come from source paths, which anyone with the dataset knows."""
    new_id = keyed_id(item.id, secret)
    new_path = f"images/{new_id}.png"
    (folder / item.path).rename(folder / new_path)
    return replace(item, id=new_id, path=new_path)


def _is_current(folder: Path, spec: BenchmarkSpec, source: str, keying: dict[str, object]) -> bool:
    record_path = folder / PROTOCOL_NAME
    if not record_path.exists():
        return False
    record = json.loads(record_path.read_text())
    recorded_keying = {"keyed": bool(record.get("keyed", False)), **({"key_id": record["key_id"]} if "key_id" in record else {})}
    return record.get("spec_hash") == spec.spec_hash() and record.get("source") == source and recorded_keying == keying


def load_built(slug: str, root: Path) -> BuiltBenchmark:
    """Read a built benchmark; fails with a clear message if missing or stale."""
    folder = Path(root) / slug
    record_path = folder / PROTOCOL_NAME
    if not record_path.exists():
        raise FileNotFoundError(
            f"{folder}: benchmark {slug!r} is not built; run: python -m datasets build {slug} --data {root}"
        )
    record = json.loads(record_path.read_text())
    spec = load_spec(slug, record["profile"])
    if spec.spec_hash() != record["spec_hash"]:
        raise ValueError(
            f"{record_path}: built from an older version of {spec.source_path}; rebuild with python -m datasets build {slug}"
        )
    items = read_manifest(folder)
    roles = read_roles(folder) if (folder / "roles.json").exists() else None
    digest = protocol_hash(spec.spec_hash(), manifest_bytes(items), roles_bytes(roles) if roles else None)
    if digest != record["protocol_hash"]:
        raise ValueError(f"{folder}: manifest or roles changed since the benchmark was built (protocol hash mismatch)")
    return BuiltBenchmark(folder, spec, items, roles, digest, record["source"], bool(record.get("keyed", False)))
