"""Accounts in the admin: Django's user admin, refusing an address another account uses, as the site's forms
do (one address, one account; the database holds it too, migration 0002)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm

from accounts.forms import refuse_used_address


class AccountChangeForm(UserChangeForm):
    def clean_email(self) -> str:
        address = str(self.cleaned_data.get("email", ""))
        return refuse_used_address(address, by_other_than=self.instance) if address else address


admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class AccountAdmin(UserAdmin):
    form = AccountChangeForm
