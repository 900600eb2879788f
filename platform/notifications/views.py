"""Mail settings (one switch per kind), sending a confirmation link, and following one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from notifications.confirmation import ConfirmationRefused, confirm, send_confirmation
from notifications.forms import MailSettingsForm
from notifications.mail import mail_settings
from toonbench_site.errors import error_response


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    current = mail_settings(request.user)
    form = MailSettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Mail settings saved.")
        return redirect("mail_settings")
    context = {"form": form, "confirmed": current.is_confirmed()}
    return render(request, "notifications/settings.html", context, status=400 if form.errors else 200)


@require_POST
@login_required
def send_confirmation_link(request: HttpRequest) -> HttpResponse:
    if send_confirmation(request.user):
        messages.success(request, f"A confirmation link is on its way to {request.user.email}.")
    else:
        messages.error(request, "your account has no e-mail address to confirm")
    return redirect("mail_settings")


def confirm_address(request: HttpRequest, token: str) -> HttpResponse:
    try:
        user = confirm(token)
    except ConfirmationRefused as exc:
        return error_response(request, 400, str(exc))
    messages.success(request, f"Address {user.email} confirmed: notifications about your submissions go there.")
    return redirect("mail_settings" if request.user.is_authenticated else "login")
