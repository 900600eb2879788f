"""The filters of "my submissions": by benchmark (its slug) and by status, through django-filter."""

from __future__ import annotations

import django_filters

from benchmarks.models import Benchmark
from submissions.models import Status, Submission


class MySubmissionsFilter(django_filters.FilterSet):
    benchmark = django_filters.ModelChoiceFilter(
        queryset=Benchmark.objects.all(), to_field_name="slug", empty_label="all benchmarks",
    )
    status = django_filters.ChoiceFilter(choices=Status.choices, empty_label="any status")

    class Meta:
        model = Submission
        fields = ["benchmark", "status"]

    def refusal(self) -> str:
        """The first invalid filter in one line ('' when all are valid), e.g. ``status: expected one of ...``."""
        if self.is_valid():
            return ""
        name = next(iter(self.errors))
        if name == "benchmark":
            return f"benchmark: expected the slug of a benchmark, got {self.data.get(name)!r}"
        return f"status: expected one of {', '.join(Status.values)}, got {self.data.get(name)!r}"
