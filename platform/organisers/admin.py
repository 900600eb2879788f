from django.contrib import admin

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
