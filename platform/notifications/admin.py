from django.contrib import admin

from notifications.models import MailSettings, PhaseNotice


@admin.register(MailSettings)
class MailSettingsAdmin(admin.ModelAdmin):
    list_display = ("user", "confirmed_email", "submission_finished", "submission_failed", "phase_opening",
                    "phase_closing", "team_invitation")
    search_fields = ("user__username", "confirmed_email")


@admin.register(PhaseNotice)
class PhaseNoticeAdmin(admin.ModelAdmin):
    list_display = ("phase", "kind", "moment", "sent")
    list_filter = ("kind",)
