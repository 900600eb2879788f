"""Sign up, sign in (Django's login view, throttled) and API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from rest_framework.authtoken.models import Token

from accounts.forms import SignupForm
from accounts.throttle import clear_sign_in_failures, record_sign_in_failure, sign_in_wait, wait_message


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
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.get_username()}. Download a protocol, then submit.")
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
