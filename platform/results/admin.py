from django.contrib import admin

from results.models import MetricValue, PairedComparison


@admin.register(MetricValue)
class MetricValueAdmin(admin.ModelAdmin):
    list_display = ["submission", "benchmark", "name", "value", "ci_low", "ci_high"]
    list_filter = ["benchmark", "name"]


@admin.register(PairedComparison)
class PairedComparisonAdmin(admin.ModelAdmin):
    """Stored paired tests; deleting one lets the next maintenance pass compute it again."""

    list_display = ["metric", "first", "second", "state", "trigger", "difference", "p_value", "method", "failure",
                    "created"]
    list_filter = ["metric", "state", "trigger", "method"]
    readonly_fields = ["metric", "first", "second", "state", "trigger", "difference", "low", "high", "p_value",
                       "method", "failure", "claimed_at", "finished_at"]
