"""Benchmarks and their protocol versions, mirrored from ``datasets/benchmarks/*.yaml``.

A spec file is the source of truth; ``manage.py sync_benchmarks`` copies it
here. A ``ProtocolVersion`` is one frozen protocol (spec hash + manifest
hash + roles hash): a changed spec or a rebuilt split makes a new version,
and results keep pointing at the version they were scored under.

``Benchmark.task`` holds a registered task type's name (``evaluator.tasks``)
without a fixed list of choices, so a new task type needs no migration; the
specs it comes from are checked against the registry when they are loaded.

A ``Phase`` is one competition phase (``datasets.phases``). The spec declares
it and ``sync_benchmarks`` creates it the first time it sees it; from then on
its dates, quotas, visibility, entry rule and wording are the hosts' and no
sync changes them (``benchmarks.phases`` holds the hosts' actions).

An uploaded benchmark (``origin`` uploaded) has its spec in the database and
its data under the data root, sent by a host (``organisers.hosted``); a
worker builds it (``build_state``, ``build_message``) and it stays inactive,
unseen by participants, until a host publishes it. No sync deactivates it.
"""

from __future__ import annotations

import json
from functools import cached_property, lru_cache
from typing import Any

from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from datasets.phases import EntryRule, Inputs, Visibility, first_overlap
from datasets.spec import spec_from_record
from datasets.spec_models import BenchmarkSpec
from evaluator.kinds import SubmissionKind
from evaluator.tasks import TASKS, TaskWords


class Origin(models.TextChoices):
    REPOSITORY = "repository", "repository spec file"
    UPLOADED = "uploaded", "uploaded by a host"


class BuildState(models.TextChoices):
    NONE = "", "not built here"
    QUEUED = "queued", "queued"
    BUILDING = "building", "building"
    BUILT = "built", "built"
    FAILED = "failed", "failed"


class BenchmarkQuerySet(models.QuerySet):
    def visible(self) -> "BenchmarkQuerySet":
        """Every benchmark but the uploaded ones no host has published yet (those are their hosts' alone)."""
        return self.exclude(origin=Origin.UPLOADED, is_active=False)


class Benchmark(models.Model):
    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    task = models.CharField(max_length=40, help_text="A registered task type (evaluator.tasks)")
    summary = models.TextField(blank=True)
    spec = models.JSONField(help_text="The validated spec, as loaded from its YAML file")
    spec_version = models.PositiveIntegerField(default=1)
    paper_title = models.CharField(max_length=300, blank=True)
    paper_authors = models.CharField(max_length=500, blank=True)
    paper_venue = models.CharField(max_length=200, blank=True)
    paper_url = models.URLField(max_length=500, blank=True)
    is_active = models.BooleanField(
        default=True, help_text="False when its spec file is gone, or (uploaded) until a host publishes it"
    )
    order = models.PositiveIntegerField(
        null=True, blank=True, help_text="The spec's place in lists of benchmarks; those without one come last"
    )
    origin = models.CharField(max_length=20, choices=Origin.choices, default=Origin.REPOSITORY)
    build_state = models.CharField(max_length=20, choices=BuildState.choices, default=BuildState.NONE, blank=True)
    build_message = models.CharField(max_length=500, blank=True, help_text="What the last build step said")
    data_folder = models.CharField(
        max_length=500, blank=True, help_text="An uploaded benchmark's data, under the data root"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="uploaded_benchmarks"
    )
    updated = models.DateTimeField(auto_now=True)

    objects = BenchmarkQuerySet.as_manager()

    class Meta:
        ordering = [models.F("order").asc(nulls_last=True), "slug"]

    def __str__(self) -> str:
        return self.slug

    @property
    def task_words(self) -> TaskWords | None:
        """What the pages say of the task (``TaskType.words``); None for a task no longer registered."""
        return TASKS.get(self.task).words if self.task in TASKS else None

    @cached_property
    def typed_spec(self) -> BenchmarkSpec:
        """The stored spec as the typed model (one parse per process and spec text)."""
        return parsed_spec(self.spec, f"benchmark {self.slug}")

    @property
    def rank_by(self) -> str:
        return self.typed_spec.leaderboard.rank_by

    def higher_is_better(self, metric_name: str) -> bool:
        try:
            return self.typed_spec.metric(metric_name).higher_is_better
        except KeyError:
            raise KeyError(f"benchmark {self.slug!r} has no metric {metric_name!r}") from None

    def current_version(self) -> "ProtocolVersion | None":
        return self.versions.filter(is_current=True).first()


class ProtocolVersion(models.Model):
    benchmark = models.ForeignKey(Benchmark, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField(help_text="The spec's own version number")
    spec_hash = models.CharField(max_length=64)
    protocol_hash = models.CharField(max_length=64)
    results_moved_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="results_moved_from",
        help_text="The version this one's submissions and results were moved to: the same data and truth "
                  "under a new spec hash",
    )
    moved_note = models.CharField(max_length=300, blank=True, help_text="When and why the results moved")
    profile = models.CharField(max_length=20, default="default")
    source = models.CharField(max_length=20, default="synthetic", help_text="synthetic or real data")
    spec = models.JSONField(help_text="The spec this protocol was frozen from")
    test_items = models.PositiveIntegerField(default=0)
    train_items = models.PositiveIntegerField(default=0)
    is_current = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["benchmark", "-created"]
        constraints = [
            models.UniqueConstraint(fields=["benchmark", "protocol_hash"], name="unique_protocol_per_benchmark"),
            models.UniqueConstraint(
                fields=["benchmark"], condition=models.Q(is_current=True), name="one_current_protocol_per_benchmark"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.benchmark.slug} v{self.version} ({self.protocol_hash[:12]}, {self.profile})"

    @property
    def short_hash(self) -> str:
        return self.protocol_hash[:12]

    @cached_property
    def typed_spec(self) -> BenchmarkSpec:
        """The spec this protocol was frozen from, as the typed model."""
        return parsed_spec(self.spec, f"protocol {self.short_hash}")


def _choices(enum: type) -> list[tuple[str, str]]:
    return [(member.value, member.value.replace("_", " ")) for member in enum]


class PhaseState(models.TextChoices):
    UPCOMING = "upcoming", "upcoming"
    OPEN = "open", "open"
    CLOSED = "closed", "closed"


class Phase(models.Model):
    """One phase of a benchmark's competition; ``split`` (the held-out part it scores) is protocol, the rest
    are settings its hosts own. Dates are stored in UTC."""

    benchmark = models.ForeignKey(Benchmark, on_delete=models.CASCADE, related_name="phases")
    slug = models.SlugField(max_length=50)
    title = models.CharField(max_length=200)
    split = models.CharField(max_length=50, help_text="The held-out part this phase scores (from the spec)")
    opens = models.DateTimeField()
    closes = models.DateTimeField()
    submissions_per_day = models.PositiveIntegerField(null=True, blank=True, help_text="Per team; empty: no limit")
    submissions_total = models.PositiveIntegerField(null=True, blank=True, help_text="Per team; empty: no limit")
    leaderboard = models.CharField(max_length=20, choices=_choices(Visibility), default=Visibility.public.value)
    entry = models.CharField(max_length=10, choices=_choices(EntryRule), default=EntryRule.best.value)
    ladder_step = models.FloatField(default=0.01, help_text="The Ladder's step (leaderboard: ladder)")
    revealed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a host showed a hidden-until-close leaderboard before its close"
    )
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["benchmark", "opens", "slug"]
        constraints = [models.UniqueConstraint(fields=["benchmark", "slug"], name="unique_phase_per_benchmark")]

    def __str__(self) -> str:
        return f"{self.benchmark.slug}/{self.slug}"

    def state(self, now: datetime) -> str:
        if now < self.opens:
            return PhaseState.UPCOMING
        return PhaseState.OPEN if now < self.closes else PhaseState.CLOSED

    @property
    def inputs(self) -> str:
        """``public`` or ``hidden``: whether the part it scores shows its inputs (protocol, from the spec)."""
        hidden = self.benchmark.typed_spec.hidden_parts()
        return Inputs.hidden.value if self.split in hidden else Inputs.public.value

    def accepts(self, kind: str) -> bool:
        """Whether a submission of ``kind`` (``evaluator.kinds``) may enter: a hidden part takes containers only."""
        return self.inputs == Inputs.public.value or kind != SubmissionKind.PREDICTIONS

    def clean(self) -> None:
        """The admin's check: closes after opens, and no overlap with the benchmark's other phases."""
        if self.opens and self.closes and self.closes <= self.opens:
            raise ValidationError({"closes": f"closes ({self.closes.isoformat()}) must be after opens "
                                              f"({self.opens.isoformat()})"})
        overlap = self.overlap()
        if overlap:
            raise ValidationError({"closes": overlap})

    def overlap(self) -> str:
        """Why this phase's dates overlap another phase of its benchmark; '' when they do not."""
        others = Phase.objects.filter(benchmark_id=self.benchmark_id).exclude(pk=self.pk)
        windows = [(other.slug, other.opens, other.closes) for other in others] + [(self.slug, self.opens, self.closes)]
        found = first_overlap(windows)
        return found[2] if found else ""


@lru_cache(maxsize=256)
def _parsed_spec(document_json: str, where: str) -> BenchmarkSpec:
    return spec_from_record(json.loads(document_json), where)


def parsed_spec(document: dict[str, Any], where: str) -> BenchmarkSpec:
    """A stored spec document parsed once per process (keyed by its canonical JSON)."""
    return _parsed_spec(json.dumps(document, sort_keys=True), where)
