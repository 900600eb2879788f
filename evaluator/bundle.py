"""The participant's protocol bundle: everything needed to train and predict,
nothing that reveals held-out truth.

``export_bundle`` writes one zip (deterministic: sorted entries, fixed
timestamps and modes) holding, under ``<slug>/``:

- ``<slug>.yaml``: the spec;
- ``README.md``: the benchmark, its splits and sizes, metrics and their
  direction, the container contract, the sandbox limits, local scoring;
- ``manifest.public.jsonl``: training items with their truth, and the test
  inputs with id, path and sha256 only (plus the task's item fields, such as
  the face box for icartoonface);
- ``container_manifest.json``: the exact ``/input/manifest.json`` a
  submission receives;
- ``protocol.json``: slug, version, profile, source, hashes and which split
  this is (``server``: keyed by the build secret; ``development``: public);
- ``starter_kit/``: a model image that obeys the contract (``evaluator.starter_kit``);
- ``images/``: for synthetic data only, the training images and the test
  inputs. Real data is licensed: participants rebuild it from their own copy.

Test labels, identities, domains, roles, pairs and (for translation) the test
cartoons that form the FID reference never enter the bundle, nor does the
build secret, nor anything of a hidden held-out part (``datasets.phases``):
the bundle is written from ``BuiltBenchmark.without_hidden``, so its
manifests, counts and images know only the public parts: the spec's seeds in the bundle rebuild the public development
split, never the server's (``datasets.secret``).

It lives with the evaluator because the contract and the task's words it
writes down are the evaluator's (``evaluator.contract``, ``evaluator.tasks``).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from datasets.build import BuiltBenchmark, load_built
from datasets.manifest import ManifestItem
from evaluator.bundle_readme import readme_text
from evaluator.contract import container_manifest, input_items
from evaluator.starter_kit import starter_kit_files
from evaluator.tasks import TaskType, task_of

PUBLIC_MANIFEST_NAME = "manifest.public.jsonl"
CONTAINER_MANIFEST_NAME = "container_manifest.json"
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
UNIX_SYSTEM = 3
FILE_MODE = 0o644 << 16


def export_bundle(slug: str, root: Path, dest: Path) -> Path:
    """Write the bundle of the benchmark built under ``root``.

    ``dest`` is the zip file to write when it ends in ``.zip``; otherwise a
    folder that receives ``<slug>-v<version>-<protocol hash[:12]>.zip``.
    """
    built = load_built(slug, Path(root)).without_hidden()
    inputs = input_items(built)
    entries = {
        f"{slug}.yaml": Path(built.spec.source_path).read_bytes(),
        "README.md": readme_text(built, inputs).encode(),
        PUBLIC_MANIFEST_NAME: public_manifest_bytes(task_of(built.spec), built.train_items(), inputs),
        CONTAINER_MANIFEST_NAME: _json_bytes(container_manifest(built)),
        "protocol.json": _json_bytes(protocol_record(built, inputs)),
    }
    entries.update({f"starter_kit/{name}": data for name, data in starter_kit_files(built.spec).items()})
    if built.source == "synthetic":
        for item in built.train_items() + inputs:
            entries[item.path] = (built.folder / item.path).read_bytes()
    target = _zip_path(built, Path(dest))
    write_deterministic_zip(target, {f"{slug}/{name}": data for name, data in entries.items()})
    return target


def public_record(task: TaskType, item: ManifestItem) -> dict[str, Any]:
    """A training item keeps its truth; a test input shows only id, path, sha256 and the task's item fields."""
    if item.split == "train":
        return item.to_json()
    part = {"part": item.part} if item.part is not None else {}
    return {**task.input_entry(item, item.path), "sha256": item.sha256, "split": "test", **part}


def public_manifest_bytes(task: TaskType, train: list[ManifestItem], inputs: list[ManifestItem]) -> bytes:
    ordered = sorted(train + inputs, key=lambda item: item.id)
    lines = [json.dumps(public_record(task, item), sort_keys=True, separators=(",", ":")) for item in ordered]
    return ("\n".join(lines) + "\n").encode()


def protocol_record(built: BuiltBenchmark, inputs: list[ManifestItem]) -> dict[str, Any]:
    spec = built.spec
    return {
        "slug": spec.slug,
        "title": spec.title,
        "version": spec.version,
        "task": spec.task,
        "profile": spec.profile,
        "source": built.source,
        "spec_hash": spec.spec_hash(),
        "protocol_hash": built.protocol_hash,
        "train_items": len(built.train_items()),
        "test_inputs": len(inputs),
        "images_included": built.source == "synthetic",
        "split": "server" if built.keyed else "development",
    }


def write_deterministic_zip(target: Path, entries: dict[str, bytes]) -> None:
    """Same entries, same bytes: sorted names, fixed timestamps, modes and system."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w") as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
            info.create_system = UNIX_SYSTEM
            info.external_attr = FILE_MODE
            # PNG is already compressed; deflating it again only costs time
            info.compress_type = zipfile.ZIP_STORED if name.endswith(".png") else zipfile.ZIP_DEFLATED
            archive.writestr(info, entries[name])


def _zip_path(built: BuiltBenchmark, dest: Path) -> Path:
    if dest.suffix == ".zip":
        return dest
    return dest / f"{built.spec.slug}-v{built.spec.version}-{built.protocol_hash[:12]}.zip"


def _json_bytes(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()
