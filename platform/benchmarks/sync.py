"""Mirror the spec files and the built benchmarks into the database.

``sync_benchmarks`` is idempotent: it upserts one ``Benchmark`` per spec,
and for every benchmark whose built folder matches its spec it records the
protocol as a ``ProtocolVersion`` (new hash: new row, made current; known
hash: made current again). Old versions and their results are never edited.
A build made without the build secret is the public development split, whose
test truth anyone can rebuild from the bundle; it is recorded (a small site
may want it) but reported as ``public split`` so an operator never runs a
leaderboard on it unawares.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from benchmarks.models import Benchmark, ProtocolVersion
from datasets.build import BuiltBenchmark, load_built
from datasets.spec import available_slugs
from datasets.spec_models import BenchmarkSpec
from evaluator.specs import load_all_specs


@dataclass
class SyncReport:
    """What one sync did, benchmark by benchmark, in words an operator can act on."""

    created_benchmarks: list[str] = field(default_factory=list)
    new_versions: list[str] = field(default_factory=list)
    current_versions: list[str] = field(default_factory=list)
    not_built: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    public_splits: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"created benchmark {slug}" for slug in self.created_benchmarks]
        out += [f"new protocol version {text}" for text in self.new_versions]
        out += [f"current protocol {text}" for text in self.current_versions]
        out += [f"not built: {text}" for text in self.not_built]
        out += [f"stale build: {text}" for text in self.stale]
        out += [f"deactivated {slug} (its spec file is gone)" for slug in self.deactivated]
        out += [
            f"public split: {slug} was built without the build secret, so anyone can rebuild its test truth "
            f"from the bundle; rebuild it with: python -m datasets build {slug} --server"
            for slug in self.public_splits
        ]
        return out


def sync_benchmarks(data_root: Path, specs: list[BenchmarkSpec] | None = None) -> SyncReport:
    """Upsert every spec and the protocol of every benchmark built under ``data_root``."""
    report = SyncReport()
    loaded = specs if specs is not None else load_all_specs()
    for spec in loaded:
        with transaction.atomic():
            benchmark = _upsert_benchmark(spec, report)
            _record_built_protocol(benchmark, spec, Path(data_root), report)
    known = set(available_slugs())
    for benchmark in Benchmark.objects.filter(is_active=True).exclude(slug__in=known):
        benchmark.is_active = False
        benchmark.save(update_fields=["is_active", "updated"])
        report.deactivated.append(benchmark.slug)
    return report


def _upsert_benchmark(spec: BenchmarkSpec, report: SyncReport) -> Benchmark:
    paper = spec.paper
    fields = {
        "title": spec.title,
        "task": spec.task,
        "summary": spec.summary,
        "spec": spec_document(spec),
        "spec_version": spec.version,
        "paper_title": paper.title if paper else "",
        "paper_authors": paper.authors if paper else "",
        "paper_venue": paper.venue if paper else "",
        "paper_url": paper.url if paper else "",
        "is_active": True,
        "order": spec.order,
    }
    benchmark, created = Benchmark.objects.update_or_create(slug=spec.slug, defaults=fields)
    if created:
        report.created_benchmarks.append(spec.slug)
    return benchmark


def spec_document(spec: BenchmarkSpec) -> dict:
    """The spec as stored: JSON, without the machine-specific source path."""
    return spec.model_dump(mode="json", exclude={"source_path"})


def _record_built_protocol(benchmark: Benchmark, spec: BenchmarkSpec, data_root: Path, report: SyncReport) -> None:
    try:
        built = load_built(spec.slug, data_root)
    except FileNotFoundError as exc:
        report.not_built.append(f"{spec.slug}: {exc}")
        return
    except ValueError as exc:
        report.stale.append(f"{spec.slug}: {exc}")
        return
    version, created = _version_for(benchmark, built)
    ProtocolVersion.objects.filter(benchmark=benchmark, is_current=True).exclude(pk=version.pk).update(is_current=False)
    if not version.is_current:
        version.is_current = True
        version.save(update_fields=["is_current"])
    label = f"{spec.slug} v{version.version} {version.short_hash} ({version.profile}, {version.source})"
    (report.new_versions if created else report.current_versions).append(label)
    if not built.keyed:
        report.public_splits.append(spec.slug)


def _version_for(benchmark: Benchmark, built: BuiltBenchmark) -> tuple[ProtocolVersion, bool]:
    """The row for this built protocol; created (never updated) when the hash is new."""
    return ProtocolVersion.objects.get_or_create(
        benchmark=benchmark,
        protocol_hash=built.protocol_hash,
        defaults={
            "version": built.spec.version,
            "spec_hash": built.spec.spec_hash(),
            "profile": built.spec.profile,
            "source": built.source,
            "spec": spec_document(built.spec),
            "test_items": len(built.test_items()),
            "train_items": len(built.train_items()),
        },
    )
