import tempfile
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from benchmarks.admin import PhaseInline, ProtocolVersionInline
from benchmarks.models import Benchmark
from organisers.hosted import HostedRefused, create_uploaded, publish
from organisers.models import BenchmarkHost, Competition, Registration


@admin.register(BenchmarkHost)
class BenchmarkHostAdmin(admin.ModelAdmin):
    list_display = ["benchmark", "user", "role", "added"]
    list_filter = ["benchmark", "role"]


@admin.register(Competition)
class CompetitionAdmin(admin.ModelAdmin):
    list_display = ["benchmark", "registration", "terms_version", "updated"]
    readonly_fields = ["terms_version"]


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = ["benchmark", "team", "state", "terms_version", "created", "decided"]
    list_filter = ["benchmark", "state"]


class UploadBenchmarkForm(forms.ModelForm):
    """Adding a benchmark is uploading one: its spec and its data (``organisers.hosted``)."""

    spec_file = forms.FileField(label="Spec", help_text="The benchmark's YAML spec")
    archive = forms.FileField(required=False, help_text="A zip or tar of the data, laid out for the spec's adapter")
    data_folder_name = forms.CharField(required=False, label="Data folder",
                                       help_text="Or: a folder already under the data root")
    user: Any = None

    class Meta:
        model = Benchmark
        fields: list[str] = []

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        with tempfile.TemporaryDirectory() as scratch:
            archive = None
            if cleaned.get("archive"):
                archive = Path(scratch) / (Path(cleaned["archive"].name).name or "data")
                archive.write_bytes(cleaned["archive"].read())
            try:
                self.uploaded = create_uploaded(self.user, cleaned["spec_file"].read(),
                                                Path(settings.TOONBENCH_DATA_ROOT), archive=archive,
                                                data_folder=cleaned.get("data_folder_name", ""))
            except HostedRefused as exc:
                raise forms.ValidationError(str(exc)) from None
        return cleaned


@admin.action(description="Publish: show the built uploaded benchmark to participants")
def publish_benchmarks(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    for benchmark in queryset:
        try:
            publish(benchmark)
        except HostedRefused as exc:
            modeladmin.message_user(request, str(exc), messages.ERROR)
        else:
            modeladmin.message_user(request, f"{benchmark.slug}: published", messages.SUCCESS)


@admin.register(Benchmark)
class BenchmarkAdmin(admin.ModelAdmin):
    """Repository benchmarks come from their spec files; adding one here uploads a spec and its data."""

    list_display = ["slug", "title", "order", "task", "origin", "build_state", "is_active", "updated"]
    list_filter = ["task", "is_active", "origin", "build_state"]
    search_fields = ["slug", "title"]
    readonly_fields = ["spec", "origin", "build_state", "build_message", "data_folder", "created_by", "updated"]
    inlines = [PhaseInline, ProtocolVersionInline]
    actions = [publish_benchmarks]

    def get_fields(self, request: HttpRequest, obj: Benchmark | None = None) -> list[str]:
        return ["spec_file", "archive", "data_folder_name"] if obj is None else super().get_fields(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Benchmark | None = None) -> list[str]:
        return [] if obj is None else self.readonly_fields

    def get_inlines(self, request: HttpRequest, obj: Benchmark | None) -> list[type]:
        return [] if obj is None else self.inlines

    def get_form(self, request: HttpRequest, obj: Benchmark | None = None, change: bool = False, **kwargs: Any) -> type:
        if obj is not None:
            return super().get_form(request, obj, change=change, **kwargs)
        return type("UploadBenchmarkFormFor", (UploadBenchmarkForm,), {"user": request.user})

    def save_model(self, request: HttpRequest, obj: Benchmark, form: forms.ModelForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        obj.pk, obj.slug = form.uploaded.pk, form.uploaded.slug
