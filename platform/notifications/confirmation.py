"""Confirming the address of an account: a signed link mailed to it, valid for a week.

The link signs the account and the address it was sent to
(``django.core.signing``, salted for this use only), so it confirms nothing
once the account's address has changed, and a link whose text was altered
is refused. Until its address is confirmed, an account gets no
notifications (``notifications.mail.notify``).

When the owner changes the address (``accounts.forms.ChangeAddressForm``),
the confirmation is forgotten (changing back later does not bring it back),
the new address gets a link and the old one a notice.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.urls import reverse

from notifications.mail import mail_settings, render_mail, site_link
from notifications.models import MailSettings
from notifications.tasks import queue_mail

SALT = "notifications.confirm-address"
MAX_AGE_S = 7 * 24 * 3600


class ConfirmationRefused(ValueError):
    """The link confirms nothing; the message says why in one line."""


def confirmation_link(user: AbstractBaseUser) -> str:
    token = signing.dumps({"user": user.pk, "email": user.email}, salt=SALT, compress=True)
    return site_link(reverse("confirm_address", args=[token]))


def send_confirmation(user: AbstractBaseUser) -> bool:
    """Queue the confirmation mail to the account's address; False when it has none."""
    if not user.email:
        return False
    subject, body = render_mail("confirm_address", {"user": user, "link": confirmation_link(user)})
    queue_mail(user.email, subject, body)
    return True


def address_changed(user: AbstractBaseUser, old_address: str) -> None:
    """After the account's address changed from ``old_address``: forget the confirmation, mail both addresses.

    The notice to the old address names neither the new address nor any link
    that undoes the change: whoever reads the old mailbox may not own the account.
    """
    MailSettings.objects.filter(user_id=user.pk).update(confirmed_email="")
    send_confirmation(user)
    if old_address:
        account_link = site_link(reverse("account"))
        subject, body = render_mail("address_changed", {"user": user, "account_link": account_link})
        queue_mail(old_address, subject, body)


def confirm(token: str) -> AbstractBaseUser:
    """Record the address a link confirms; ``ConfirmationRefused`` when the link is altered, old or outdated."""
    try:
        signed = signing.loads(token, salt=SALT, max_age=MAX_AGE_S)
    except signing.SignatureExpired:
        raise ConfirmationRefused(
            "this confirmation link has expired; send a new one from your mail settings") from None
    except signing.BadSignature:
        raise ConfirmationRefused("this confirmation link is not valid; use the link exactly as mailed") from None
    user = get_user_model().objects.filter(pk=signed.get("user"), is_active=True).first()
    if user is None or not user.email or user.email.casefold() != str(signed.get("email", "")).casefold():
        raise ConfirmationRefused("this link confirms an address the account no longer has; send a new one")
    settings_row = mail_settings(user)
    settings_row.confirmed_email = user.email
    settings_row.save()
    return user
