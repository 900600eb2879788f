"""Throttling sign-in: the API token route, the login form, the admin's login and the registry's token service.

Two limits, both kept in the ``throttle`` cache that every web process shares:

- a request rate per client address (the DRF rate ``auth``, e.g. ``30/min``),
  counted on every sign-in attempt, right or wrong;
- failed sign-ins per username and per client address over a sliding window
  (``TOONBENCH_AUTH_FAILURES_PER_USERNAME`` / ``..._PER_ADDRESS`` within
  ``TOONBENCH_AUTH_FAILURE_WINDOW_S``): guessing one account's password from
  many addresses, or many accounts' from one, both stop.

Past either, the answer is 429 with ``Retry-After``. The client address is
``REMOTE_ADDR`` unless ``TOONBENCH_NUM_PROXIES`` says how many proxies append
to ``X-Forwarded-For``, so a forged header cannot reset the count.

Use from any sign-in view::

    refusal = check_sign_in(request, username)
    if refusal is not None:
        return refusal
    ...  # check the credentials
    if failed:
        record_sign_in_failure(request, username)
    else:
        clear_sign_in_failures(username)
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.http import HttpRequest, HttpResponse
from rest_framework.throttling import SimpleRateThrottle

from toonbench_site.errors import error_response

AUTH_SCOPE = "auth"


def throttle_cache() -> BaseCache:
    return caches["throttle"]


class SignInRateThrottle(SimpleRateThrottle):
    """DRF throttle: sign-in requests per client address, at the ``auth`` rate."""

    scope = AUTH_SCOPE

    @property  # type: ignore[override]
    def cache(self) -> BaseCache:
        return throttle_cache()

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def client_address(request: HttpRequest) -> str:
    return str(SignInRateThrottle().get_ident(request) or "unknown")


def _username_key(username: str) -> str:
    digest = hashlib.sha256(username.strip().lower().encode("utf-8", "replace")).hexdigest()
    return f"sign-in-failures:user:{digest}"


def _address_key(address: str) -> str:
    return f"sign-in-failures:address:{address}"


def _recent(key: str, now: float) -> list[float]:
    window = settings.TOONBENCH_AUTH_FAILURE_WINDOW_S
    return [stamp for stamp in throttle_cache().get(key, []) if stamp > now - window]


def _wait_for(key: str, limit: int, now: float) -> int:
    """Seconds until ``key`` drops below ``limit`` failures (0 when it is below now)."""
    history = _recent(key, now)
    if len(history) < limit:
        return 0
    oldest_counted = sorted(history)[-limit]
    return max(math.ceil(oldest_counted + settings.TOONBENCH_AUTH_FAILURE_WINDOW_S - now), 1)


def sign_in_wait(request: HttpRequest, username: str) -> int:
    """Seconds the client must wait before this sign-in attempt is allowed (0: go ahead).

    Counts the attempt against the address's request rate (DRF views get
    that from ``throttle_classes = [SignInRateThrottle]`` and call
    ``failed_sign_in_wait`` alone).
    """
    rate = SignInRateThrottle()
    if not rate.allow_request(request, None):
        return max(math.ceil(rate.wait() or 1), 1)
    return failed_sign_in_wait(request, username)


def failed_sign_in_wait(request: HttpRequest, username: str) -> int:
    """Seconds until the username and the address are both below their failure limits (0: now)."""
    now = time.time()
    return max(
        _wait_for(_username_key(username), settings.TOONBENCH_AUTH_FAILURES_PER_USERNAME, now),
        _wait_for(_address_key(client_address(request)), settings.TOONBENCH_AUTH_FAILURES_PER_ADDRESS, now),
    )


def wait_message(wait_s: int) -> str:
    minutes = math.ceil(wait_s / 60)
    when = f"{wait_s} seconds" if wait_s < 120 else f"{minutes} minutes"
    return f"too many sign-in attempts from here or for this account; try again in {when}"


def too_many_attempts(request: HttpRequest, wait_s: int) -> HttpResponse:
    """The 429 answer, with ``Retry-After``."""
    response = error_response(request, 429, wait_message(wait_s))
    response["Retry-After"] = str(wait_s)
    return response


def check_sign_in(request: HttpRequest, username: str) -> HttpResponse | None:
    """The 429 response when this sign-in attempt is throttled; None when it may go ahead."""
    wait_s = sign_in_wait(request, username)
    return too_many_attempts(request, wait_s) if wait_s else None


def record_sign_in_failure(request: HttpRequest, username: str) -> None:
    now = time.time()
    window = settings.TOONBENCH_AUTH_FAILURE_WINDOW_S
    for key in (_username_key(username), _address_key(client_address(request))):
        throttle_cache().set(key, [*_recent(key, now), now], window)


def clear_sign_in_failures(username: str) -> None:
    """After a successful sign-in: the account's failures are forgotten (the address's are not)."""
    throttle_cache().delete(_username_key(username))
