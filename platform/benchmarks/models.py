"""Benchmarks and their protocol versions, mirrored from ``datasets/benchmarks/*.yaml``.

A spec file is the source of truth; ``manage.py sync_benchmarks`` copies it
here. A ``ProtocolVersion`` is one frozen protocol (spec hash + manifest
hash + roles hash): a changed spec or a rebuilt split makes a new version,
and results keep pointing at the version they were scored under.

``Benchmark.task`` holds a registered task type's name (``evaluator.tasks``)
without a fixed list of choices, so a new task type needs no migration; the
specs it comes from are checked against the registry when they are loaded.
"""

from __future__ import annotations

import json
from functools import cached_property, lru_cache
from typing import Any

from django.db import models

from datasets.spec import spec_from_record
from datasets.spec_models import BenchmarkSpec
from evaluator.tasks import TASKS, TaskWords


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
    is_active = models.BooleanField(default=True, help_text="False when its spec file is gone")
    order = models.PositiveIntegerField(
        null=True, blank=True, help_text="The spec's place in lists of benchmarks; those without one come last"
    )
    updated = models.DateTimeField(auto_now=True)

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


@lru_cache(maxsize=256)
def _parsed_spec(document_json: str, where: str) -> BenchmarkSpec:
    return spec_from_record(json.loads(document_json), where)


def parsed_spec(document: dict[str, Any], where: str) -> BenchmarkSpec:
    """A stored spec document parsed once per process (keyed by its canonical JSON)."""
    return _parsed_spec(json.dumps(document, sort_keys=True), where)
