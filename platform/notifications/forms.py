from __future__ import annotations

from django import forms

from notifications.models import Kind, MailSettings


class MailSettingsForm(forms.ModelForm):
    """One checkbox per kind of mail; an unticked box turns that kind off."""

    class Meta:
        model = MailSettings
        fields = [kind.value for kind in Kind]
