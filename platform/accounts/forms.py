from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm


class SignupForm(UserCreationForm):
    email = forms.EmailField(required=True, help_text="Used only to reach you about your submissions.")

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")
