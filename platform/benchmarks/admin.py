from collections.abc import Callable

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from benchmarks.models import Benchmark, Phase, ProtocolVersion
from benchmarks.phases import PhaseRefused, apply_action

PHASE_SETTINGS = ["title", "opens", "closes", "submissions_per_day", "submissions_total", "leaderboard", "entry",
                  "ladder_step"]


class ProtocolVersionInline(admin.TabularInline):
    model = ProtocolVersion
    fk_name = "benchmark"
    extra = 0
    can_delete = False
    fields = ["version", "protocol_hash", "profile", "source", "test_items", "is_current", "moved_note", "created"]
    readonly_fields = fields


class PhaseInline(admin.TabularInline):
    """A phase's settings are the hosts' (a sync never changes them); the part it scores is protocol."""

    model = Phase
    extra = 0
    fields = ["slug", "split", *PHASE_SETTINGS, "revealed_at"]
    readonly_fields = ["slug", "split", "revealed_at"]

    def has_add_permission(self, request: HttpRequest, obj: Benchmark | None = None) -> bool:
        return False


def _phase_action(action: str, description: str) -> Callable[[admin.ModelAdmin, HttpRequest, QuerySet], None]:
    """An admin action that runs ``benchmarks.phases.apply_action`` on each selected phase, saying what it did."""

    @admin.action(description=description)
    def run(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
        for phase in queryset.select_related("benchmark"):
            try:
                apply_action(phase, action, timezone.now())
            except PhaseRefused as exc:
                modeladmin.message_user(request, f"{phase}: {exc}", messages.ERROR)
            else:
                modeladmin.message_user(request, f"{phase}: {action} done", messages.SUCCESS)

    run.__name__ = f"{action}_phase"
    return run


@admin.register(Phase)
class PhaseAdmin(admin.ModelAdmin):
    """Open, close and reveal are actions; extending is editing ``closes``."""

    list_display = ["benchmark", "slug", "title", "split", "opens", "closes", "leaderboard", "entry", "revealed_at"]
    list_filter = ["benchmark", "leaderboard"]
    fields = ["benchmark", "slug", "split", *PHASE_SETTINGS, "revealed_at"]
    readonly_fields = ["benchmark", "slug", "split", "revealed_at"]
    actions = [_phase_action("open", "Open now"), _phase_action("close", "Close now"),
               _phase_action("reveal", "Reveal the leaderboard before the close")]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ProtocolVersion)
class ProtocolVersionAdmin(admin.ModelAdmin):
    list_display = ["benchmark", "version", "protocol_hash", "profile", "source", "test_items", "is_current", "created"]
    list_filter = ["benchmark", "is_current", "profile", "source"]
    readonly_fields = [field.name for field in ProtocolVersion._meta.fields]
