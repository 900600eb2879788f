"""Sign up, sign in (Django's login view, throttled), the account page, API tokens, changing the address
and closing an account.

Password change and reset are Django's own views (``accounts.urls``); the
reset mail is sent by a worker (``QueuedPasswordResetForm``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView, PasswordResetView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from rest_framework.authtoken.models import Token

from accounts.closing import AccountRefused, close_account
from accounts.forms import ChangeAddressForm, CloseAccountForm, QueuedPasswordResetForm, SignupForm
from accounts.throttle import (
    clear_sign_in_failures, record_sign_in_failure, sign_in_wait, too_many_attempts, wait_message,
)
from notifications.confirmation import send_confirmation
from notifications.mail import mail_settings


class ThrottledLoginView(LoginView):
    """Django's login form, with failed attempts counted per address and username (accounts/throttle.py)."""

    template_name = "accounts/login.html"

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        username = str(request.POST.get("username", ""))
        wait_s = sign_in_wait(request, username)
        if wait_s:
            messages.error(request, wait_message(wait_s))
            response = self.render_to_response(self.get_context_data(form=self.get_form_class()(request)), status=429)
            response["Retry-After"] = str(wait_s)
            return response
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        clear_sign_in_failures(self.request, form.get_user().get_username())
        return super().form_valid(form)

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        record_sign_in_failure(self.request, str(self.request.POST.get("username", "")))
        return super().form_invalid(form)


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and (user := form.save()) is not None:
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        send_confirmation(user)
        messages.success(request, f"Welcome, {user.get_username()}. Download a protocol, then submit. "
                                  f"Follow the link we mailed to {user.email} to get mail about your submissions.")
        return redirect("home")
    return render(request, "accounts/signup.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    """Show the user's API token; POST creates it, or replaces it (the old one stops working)."""
    if request.method == "POST":
        Token.objects.filter(user=request.user).delete()
        Token.objects.create(user=request.user)
        messages.success(request, "New API token created; the previous one no longer works.")
        return redirect("tokens")
    token = Token.objects.filter(user=request.user).first()
    return render(request, "accounts/tokens.html", {"token": token})


class QueuedPasswordResetView(PasswordResetView):
    """Django's reset view; requests count against the sign-in rate per address, so nobody mails a flood."""

    form_class = QueuedPasswordResetForm

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        wait_s = sign_in_wait(request, str(request.POST.get("email", "")))
        if wait_s:
            return too_many_attempts(request, wait_s)
        return super().post(request, *args, **kwargs)

    @property
    def extra_email_context(self) -> dict[str, str]:  # type: ignore[override]
        """Links in the mail start with the site's address, as in every other mail."""
        return {"site_url": settings.TOONBENCH_SITE_URL}


@login_required
def account(request: HttpRequest) -> HttpResponse:
    """The signed-in user's account: address and its confirmation, and links to everything they can change."""
    return render(request, "accounts/account.html", {"confirmed": mail_settings(request.user).is_confirmed()})


def refused_while_throttled(request: HttpRequest) -> HttpResponse | None:
    """429 while the user's sign-ins are throttled, answered before a password form is checked, so a throttled
    guess learns nothing."""
    wait_s = sign_in_wait(request, request.user.get_username())
    return too_many_attempts(request, wait_s) if wait_s else None


@login_required
@require_http_methods(["GET", "POST"])
def change_email(request: HttpRequest) -> HttpResponse:
    """A new address, once the password is given again; its password check is throttled like a sign-in."""
    form = ChangeAddressForm(request.user, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if (refused := refused_while_throttled(request)) is not None:
            return refused
        if not form.is_valid() or (old_address := form.save()) is None:
            if form.wrong_password():
                record_sign_in_failure(request, request.user.get_username())
            return render(request, "accounts/email_change.html", {"form": form}, status=400)
        new_address = request.user.email
        notice = f" A notice went to {old_address}." if old_address else ""
        messages.success(request, f"Your address is now {new_address}: follow the link we mailed there to confirm it "
                                  f"(until then, no notifications are sent).{notice}")
        return redirect("account")
    return render(request, "accounts/email_change.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def close(request: HttpRequest) -> HttpResponse:
    """Delete the account after its password is given again (``accounts.closing``)."""
    form = CloseAccountForm(request.user, request.POST or None)
    if request.method == "POST":
        if (refused := refused_while_throttled(request)) is not None:
            return refused
        if not form.is_valid():
            record_sign_in_failure(request, request.user.get_username())
            return render(request, "accounts/close.html", {"form": form}, status=400)
        try:
            shown = close_account(request.user)
        except AccountRefused as exc:
            form.add_error(None, str(exc))
            return render(request, "accounts/close.html", {"form": form}, status=400)
        logout(request)
        messages.success(request, f"Your account is deleted; your entries stay on the leaderboards as {shown!r}.")
        return redirect("home")
    return render(request, "accounts/close.html", {"form": form})
