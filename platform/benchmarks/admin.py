from django.contrib import admin

from benchmarks.models import Benchmark, ProtocolVersion


class ProtocolVersionInline(admin.TabularInline):
    model = ProtocolVersion
    extra = 0
    can_delete = False
    fields = ["version", "protocol_hash", "profile", "source", "test_items", "is_current", "created"]
    readonly_fields = fields


@admin.register(Benchmark)
class BenchmarkAdmin(admin.ModelAdmin):
    list_display = ["slug", "title", "order", "task", "spec_version", "is_active", "updated"]
    list_filter = ["task", "is_active"]
    search_fields = ["slug", "title"]
    readonly_fields = ["spec", "updated"]
    inlines = [ProtocolVersionInline]


@admin.register(ProtocolVersion)
class ProtocolVersionAdmin(admin.ModelAdmin):
    list_display = ["benchmark", "version", "protocol_hash", "profile", "source", "test_items", "is_current", "created"]
    list_filter = ["benchmark", "is_current", "profile", "source"]
    readonly_fields = [field.name for field in ProtocolVersion._meta.fields]
