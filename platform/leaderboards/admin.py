from django.contrib import admin

from leaderboards.models import PairedComparison


@admin.register(PairedComparison)
class PairedComparisonAdmin(admin.ModelAdmin):
    """Stored paired tests; deleting one makes the next leaderboard render compute it again."""

    list_display = ["metric", "first", "second", "difference", "p_value", "method", "failure", "created"]
    list_filter = ["metric", "method"]
    readonly_fields = ["metric", "first", "second", "difference", "low", "high", "p_value", "method", "failure"]
