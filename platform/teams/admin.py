from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from teams.models import Invitation, Membership, Team
from teams.names import NameRefused, check_team_name


class TeamForm(forms.ModelForm):
    """A team added here obeys the same name rules as one created on the site."""

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"])
        try:
            return check_team_name(name)
        except NameRefused as exc:
            raise forms.ValidationError(str(exc), code="name") from None


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    readonly_fields = ["joined"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    form = TeamForm
    list_display = ["name", "personal_for", "created"]
    list_filter = [("personal_for", admin.EmptyFieldListFilter)]
    search_fields = ["name"]

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> list[type[admin.TabularInline]]:
        return [] if obj is not None and obj.is_personal else [MembershipInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A name is a registry namespace that images live under: it never changes once taken.
        return ["personal_for", "created", *(["name"] if obj is not None else [])]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["team", "invitee", "inviter", "state", "created", "answered"]
    list_filter = ["state"]
    search_fields = ["team__name", "invitee__username"]
    readonly_fields = ["created", "answered"]
