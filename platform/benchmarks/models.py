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

from typing import Any

from django.db import models

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
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    @property
    def task_words(self) -> TaskWords | None:
        """What the pages say of the task (``TaskType.words``); None for a task no longer registered."""
        return TASKS.get(self.task).words if self.task in TASKS else None

    @property
    def metrics(self) -> list[dict[str, Any]]:
        """The spec's metric entries: name, fn, higher_is_better, leaderboard, params."""
        return list(self.spec.get("metrics", []))

    @property
    def rank_by(self) -> str:
        return str(self.spec["leaderboard"]["rank_by"])

    def higher_is_better(self, metric_name: str) -> bool:
        for metric in self.metrics:
            if metric["name"] == metric_name:
                return bool(metric["higher_is_better"])
        raise KeyError(f"benchmark {self.slug!r} has no metric {metric_name!r}")

    @property
    def limits(self) -> dict[str, Any]:
        return dict(self.spec.get("limits", {}))

    @property
    def submissions_per_day(self) -> int:
        return int(self.limits.get("submissions_per_day", 5))

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
