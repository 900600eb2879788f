"""Usernames the platform keeps for itself, and the account that owns the bundled baselines.

A participant who could sign up as ``toonbench`` would own every baseline
row, and one named like the workers' registry credential or ``admin``
could pass for the platform. Signup refuses these names whatever their
case or Unicode form (``Toonbench`` and ``ｔｏｏｎｂｅｎｃｈ`` included), and any name
that starts with the platform's own name and a separator (``toonbench-team``).

The baseline owner is created by this app's first migration, unable to sign
in (unusable password, inactive, no staff rights), so on a new deployment it
exists before anyone can sign up; ``ensure_baseline_owner`` is what the
migration runs, and what ``seeding.baselines`` runs again to restore the
account should it have been deleted or given a password.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password

BASELINE_OWNER = "toonbench"
RESERVED_USERNAMES = frozenset({
    BASELINE_OWNER, "toonbench-worker", "admin", "administrator", "root", "staff", "support", "registry",
    "api", "system", "superuser", "moderator", "security", "abuse", "postmaster", "webmaster", "hostmaster",
    "noreply", "no-reply", "baseline", "baselines", "anonymous", "official", "owner", "operator", "worker",
    "docker", "library", "help", "info", "accounts", "login", "logout", "signup", "static", "media", "v2",
})
_PLATFORM_PREFIX = re.compile(rf"^{BASELINE_OWNER}[-_.@+]")


def normal_username(username: str) -> str:
    """The form two names share when a person (or a registry namespace) would take them for one."""
    return unicodedata.normalize("NFKC", username).casefold().strip()


def is_reserved_username(username: str) -> bool:
    """True when signup must refuse ``username`` (the platform's own names, in any case or Unicode form)."""
    name = normal_username(username)
    reserved = RESERVED_USERNAMES | {normal_username(settings.TOONBENCH_REGISTRY_WORKER_USER)}
    return name in reserved or bool(_PLATFORM_PREFIX.match(name))


def ensure_baseline_owner(user_model: Any) -> Any:
    """The baseline owner account of ``user_model`` (a migration's historical model too), unable to sign in."""
    owner, _ = user_model.objects.get_or_create(username=BASELINE_OWNER)
    owner.password = make_password(None)
    owner.is_active = owner.is_staff = owner.is_superuser = False
    owner.save(update_fields=["password", "is_active", "is_staff", "is_superuser"])
    return owner
