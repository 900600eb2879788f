from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm, UserCreationForm
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string

from accounts.reserved import is_reserved_username
from accounts.throttle import clear_sign_in_failures, record_sign_in_failure, sign_in_wait, wait_message
from notifications.confirmation import address_changed
from notifications.tasks import queue_mail
from teams.names import is_team_name


def address_in_use(address: str, by_other_than: Any = None) -> bool:
    """Whether an account (other than ``by_other_than``) has this address, in any case: one address, one account."""
    others = get_user_model().objects.filter(email__iexact=address)
    if by_other_than is not None:
        others = others.exclude(pk=by_other_than.pk)
    return others.exists()


def address_taken(address: str) -> forms.ValidationError:
    return forms.ValidationError(f"another account already uses the address {address!r}; use another",
                                 code="address_in_use")


def refuse_used_address(address: str, by_other_than: Any = None) -> str:
    if address_in_use(address, by_other_than):
        raise address_taken(address)
    return address


def lost_address_race(form: forms.Form, error: IntegrityError, by_other_than: Any = None) -> None:
    """After a save failed on the database: when another account took the form's address since it was checked
    (accounts migration 0002), say so on the form; any other failure goes on up."""
    address = str(form.cleaned_data.get("email", ""))
    if not address or not address_in_use(address, by_other_than):
        raise error
    form.add_error("email", address_taken(address))


class SignupForm(UserCreationForm):
    email = forms.EmailField(
        required=True,
        help_text="Used only to reach you about your submissions, once you follow the link we mail to it.",
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_username(self) -> str:
        """Refuse the names the platform keeps for itself (accounts/reserved.py) and teams' names (namespaces)."""
        username = str(self.cleaned_data.get("username", ""))
        if is_reserved_username(username):
            raise forms.ValidationError(
                f"the username {username!r} is reserved for the platform; choose another", code="reserved"
            )
        if is_team_name(username):
            raise forms.ValidationError(f"the username {username!r} is a team's name; choose another", code="team")
        return super().clean_username()

    def clean_email(self) -> str:
        return refuse_used_address(str(self.cleaned_data.get("email", "")))

    def save(self, commit: bool = True) -> Any:
        """The new account; None when another account took the address since the form was checked."""
        try:
            with transaction.atomic():
                return super().save(commit)
        except IntegrityError as error:
            lost_address_race(self, error)
            return None


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin's login form, throttled like every other sign-in (accounts/throttle.py)."""

    def clean(self) -> dict[str, Any]:
        username = str(self.data.get("username", ""))
        wait_s = sign_in_wait(self.request, username) if self.request is not None else 0
        if wait_s:
            raise forms.ValidationError(wait_message(wait_s), code="throttled")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if self.request is not None:
                record_sign_in_failure(self.request, username)
            raise
        if self.request is not None:
            clear_sign_in_failures(self.request, username)
        return cleaned


class QueuedPasswordResetForm(PasswordResetForm):
    """Django's password reset form, whose mail a worker sends (the request never waits on a mail server)."""

    def send_mail(self, subject_template_name: str, email_template_name: str, context: dict[str, Any],
                  from_email: str | None, to_email: str, html_email_template_name: str | None = None) -> None:
        subject = "".join(render_to_string(subject_template_name, context).splitlines())
        queue_mail(to_email, subject, render_to_string(email_template_name, context))


class CurrentPasswordForm(forms.Form):
    """A form that asks for the signed-in user's password again before it changes their account."""

    password = forms.CharField(
        label="Your password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, user: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = str(self.cleaned_data.get("password", ""))
        if not self.user.check_password(password):
            raise forms.ValidationError("password: expected your current password", code="wrong_password")
        return password

    def wrong_password(self) -> bool:
        return self.has_error("password", code="wrong_password")


class CloseAccountForm(CurrentPasswordForm):
    """Deleting an account asks for nothing but the password (``accounts.closing``)."""


EXPECTED_ADDRESS = "new e-mail address: expected an address such as name@example.org"


class ChangeAddressForm(CurrentPasswordForm):
    """A new e-mail address for the account; the new address is confirmed by mail, the old one is told."""

    email = forms.EmailField(
        label="New e-mail address", widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"invalid": EXPECTED_ADDRESS, "required": EXPECTED_ADDRESS},
        help_text="We mail a confirmation link to it; until you follow it, notifications stop.",
    )
    field_order = ["email", "password"]

    def clean_email(self) -> str:
        address = str(self.cleaned_data.get("email", ""))
        if address.casefold() == self.user.email.casefold():
            raise forms.ValidationError(f"{address!r} is already your address; enter the new one", code="same")
        return refuse_used_address(address, by_other_than=self.user)

    def save(self) -> str | None:
        """Give the account its new address; returns the old one. The mails leave once this commits. None when
        another account took the address since the form was checked: nothing changes, nothing is mailed."""
        old_address = self.user.email
        try:
            with transaction.atomic():
                self.user.email = self.cleaned_data["email"]
                self.user.save(update_fields=["email"])
                address_changed(self.user, old_address)
        except IntegrityError as error:
            self.user.email = old_address
            lost_address_race(self, error, by_other_than=self.user)
            return None
        return old_address
