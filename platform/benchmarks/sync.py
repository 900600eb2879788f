"""Mirror the spec files and the built benchmarks into the database.

``sync_benchmarks`` is idempotent: it upserts one ``Benchmark`` per spec,
and for every benchmark whose built folder matches its spec it records the
protocol as a ``ProtocolVersion`` (new hash: new row, made current; known
hash: made current again). Old versions and their results are never edited.
A build made without the build secret is the public development split, whose
test truth anyone can rebuild from the bundle; it is recorded (a small site
may want it) but reported as ``public split`` so an operator never runs a
leaderboard on it unawares.

Phases: a phase the spec declares is created the first time a sync sees it;
after that its dates, quotas, visibility, entry rule and wording belong to
the benchmark's hosts (admin, API), and a sync never changes them, even when
the spec's differ. A phase the spec drops stays, for its hosts to remove.

Results follow a new version that changes nothing they depend on: when the
new protocol has the same data and truth as the current one (its manifest
and roles give the old protocol hash under the old spec hash) and the old
spec, hashed as specs are hashed today, is the new one (only the definition
of the spec hash moved, or a setting that hashing now leaves out), its
submissions and results are moved to the new version, and the old version
keeps a note of where they went.

Uploaded benchmarks (``Benchmark.origin`` uploaded: the spec came from a
host, ``organisers.hosted``) are not the spec files' to manage: a sync never
deactivates them, and their worker records their protocol with
``record_uploaded``, which leaves their visibility to their hosts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.db.models import ForeignKey
from django.utils import timezone

from benchmarks.models import Benchmark, Origin, Phase, ProtocolVersion
from datasets.build import BuiltBenchmark, load_built
from datasets.manifest import manifest_bytes, protocol_hash, roles_bytes
from datasets.spec import SpecError, available_slugs
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
    new_phases: list[str] = field(default_factory=list)
    moved_results: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"created benchmark {slug}" for slug in self.created_benchmarks]
        out += [f"new protocol version {text}" for text in self.new_versions]
        out += [f"current protocol {text}" for text in self.current_versions]
        out += [f"moved results: {text}" for text in self.moved_results]
        out += [f"new phase {text}" for text in self.new_phases]
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
            _add_new_phases(benchmark, spec, report)
            _record_built_protocol(benchmark, spec, Path(data_root), report)
    known = set(available_slugs())
    uploaded = Benchmark.objects.filter(origin=Origin.UPLOADED)
    for benchmark in Benchmark.objects.filter(is_active=True).exclude(slug__in=known).exclude(pk__in=uploaded):
        benchmark.is_active = False
        benchmark.save(update_fields=["is_active", "updated"])
        report.deactivated.append(benchmark.slug)
    return report


def record_uploaded(benchmark: Benchmark, spec: BenchmarkSpec, data_root: Path) -> SyncReport:
    """Record an uploaded benchmark's new phases and built protocol; its row and visibility stay as they are."""
    report = SyncReport()
    with transaction.atomic():
        _add_new_phases(benchmark, spec, report)
        _record_built_protocol(benchmark, spec, Path(data_root), report)
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


def _add_new_phases(benchmark: Benchmark, spec: BenchmarkSpec, report: SyncReport) -> None:
    """Create the spec's phases the benchmark does not have yet; existing ones are the hosts' and stay as they are."""
    known = set(benchmark.phases.values_list("slug", flat=True))
    for declared in spec.phases:
        if declared.slug in known:
            continue
        Phase.objects.create(
            benchmark=benchmark, slug=declared.slug, title=declared.title, split=declared.split,
            opens=declared.opens, closes=declared.closes, submissions_per_day=declared.submissions_per_day,
            submissions_total=declared.submissions_total, leaderboard=declared.leaderboard.value,
            entry=declared.entry.value, ladder_step=declared.ladder_step,
        )
        report.new_phases.append(f"{spec.slug}/{declared.slug}")


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
    previous = benchmark.current_version()
    version, created = _version_for(benchmark, built)
    if created and previous is not None and same_protocol(previous, built):
        report.moved_results.append(_move_results(previous, version))
    ProtocolVersion.objects.filter(benchmark=benchmark, is_current=True).exclude(pk=version.pk).update(is_current=False)
    if not version.is_current:
        version.is_current = True
        version.save(update_fields=["is_current"])
    label = f"{spec.slug} v{version.version} {version.short_hash} ({version.profile}, {version.source})"
    (report.new_versions if created else report.current_versions).append(label)
    if not built.keyed:
        report.public_splits.append(spec.slug)


def same_protocol(previous: ProtocolVersion, built: BuiltBenchmark) -> bool:
    """Whether ``built`` is ``previous`` under another spec hash only: the same manifest and roles (they give
    ``previous``'s protocol hash under its spec hash), and ``previous``'s spec hashed as specs are now."""
    if (previous.profile, previous.source) != (built.spec.profile, built.source):
        return False
    roles = roles_bytes(built.roles) if built.roles is not None else None
    if protocol_hash(previous.spec_hash, manifest_bytes(built.items), roles) != previous.protocol_hash:
        return False
    try:
        return previous.typed_spec.spec_hash() == built.spec.spec_hash()
    except SpecError:
        return False


def _move_results(previous: ProtocolVersion, version: ProtocolVersion) -> str:
    """Point every row that refers to ``previous`` (submissions, their numbers) at ``version``; ``previous``
    keeps a note of it."""
    moved = {}
    for relation in ProtocolVersion._meta.related_objects:
        if isinstance(relation.field, ForeignKey) and relation.related_model is not ProtocolVersion:
            rows = relation.related_model._default_manager.filter(**{relation.field.name: previous})
            moved[relation.related_model._meta.verbose_name_plural] = rows.update(**{relation.field.name: version})
    counts = ", ".join(f"{count} {name}" for name, count in sorted(moved.items()))
    previous.results_moved_to = version
    previous.moved_note = (
        f"{timezone.now():%Y-%m-%d %H:%M} UTC: moved to {version.short_hash} ({counts}); same data and truth, "
        f"spec hash {previous.spec_hash[:12]} -> {version.spec_hash[:12]}"
    )[:300]
    previous.save(update_fields=["results_moved_to", "moved_note"])
    return f"{previous.benchmark.slug} {previous.short_hash} -> {version.short_hash} ({counts})"


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
