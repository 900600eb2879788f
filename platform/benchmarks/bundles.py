"""Protocol bundles for download, built once per protocol version and cached under media.

The zip comes from ``evaluator.bundle.export_bundle``; it is deterministic,
so a cached file named by its protocol hash never goes stale. Writing goes
through a temporary name and a rename, so two requests that build the same
bundle at once never serve a half-written file.
"""

from __future__ import annotations

import json
import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings

from benchmarks.models import ProtocolVersion
from datasets.build import load_built
from evaluator.bundle import export_bundle


class BundleUnavailable(Exception):
    """The protocol's data is not built on this server (or was rebuilt differently)."""


def bundle_name(protocol: ProtocolVersion) -> str:
    return f"{protocol.benchmark.slug}-v{protocol.version}-{protocol.short_hash}.zip"


def bundle_path(protocol: ProtocolVersion) -> Path:
    """The cached zip for ``protocol``, written first if needed."""
    target = Path(settings.MEDIA_ROOT) / "bundles" / bundle_name(protocol)
    if target.is_file():
        return target
    slug = protocol.benchmark.slug
    data_root = Path(settings.TOONBENCH_DATA_ROOT)
    try:
        built = load_built(slug, data_root)
    except (FileNotFoundError, ValueError) as exc:
        raise BundleUnavailable(f"{slug} is not built under {data_root}: {exc}") from None
    if built.protocol_hash != protocol.protocol_hash:
        raise BundleUnavailable(
            f"the data built for {slug} has protocol {built.protocol_hash[:12]}, not {protocol.short_hash}; "
            "only the current protocol's bundle can be downloaded"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".partial-", dir=target.parent) as scratch:
        os.replace(export_bundle(slug, data_root, Path(scratch) / target.name), target)
    return target


def role_counts(slug: str) -> dict[str, int]:
    """Probe, gallery and pair counts from ``roles.json`` (identification benchmarks), if built."""
    path = Path(settings.TOONBENCH_DATA_ROOT) / slug / "roles.json"
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return {}
    return dict(_role_counts(str(path), stamp))


@lru_cache(maxsize=16)
def _role_counts(path: str, stamp: int) -> tuple[tuple[str, int], ...]:
    roles: dict[str, Any] = json.loads(Path(path).read_text())
    pairs = roles.get("pairs", [])
    positives = sum(1 for pair in pairs if pair[2])
    return (
        ("probes", len(roles.get("probes", []))),
        ("gallery", len(roles.get("gallery", []))),
        ("pairs", len(pairs)),
        ("positive_pairs", positives),
        ("negative_pairs", len(pairs) - positives),
    )
