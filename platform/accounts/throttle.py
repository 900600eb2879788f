"""Throttling sign-in: the API token route, the login form, the admin's login and the registry's token service.

Kept in the ``throttle`` cache that every web process shares:

- a request rate per client address (the DRF rate ``auth``, e.g. ``30/min``),
  counted on every sign-in attempt, right or wrong;
- failed sign-ins over a sliding window (``TOONBENCH_AUTH_FAILURE_WINDOW_S``):
  per (address, username) pair, at most ``TOONBENCH_AUTH_FAILURES_PER_USERNAME``;
  per address whatever the username, at most ``..._PER_ADDRESS``; and once a
  username has as many failures from all addresses together as one address
  may make (``..._PER_ADDRESS``), the account is under attack: every address
  that has failed for it waits too.

Nothing another address does can stop an account's owner: failures from
elsewhere never count against the owner's own (address, username) pair, and
the username-wide count only stops addresses that have themselves failed for
the account. The trade-off: a guesser spread over many addresses gets about
one guess per fresh address once the account is under attack, and an owner
who mistypes during such an attack waits out the window at that address. The workers' registry credential (``TOONBENCH_REGISTRY_WORKER_USER``,
a generated random password) is not held by the per-address count either, so
other clients behind the workers' address (a NAT, a proxy) cannot stop pulls.

Past a limit, the answer is 429 with ``Retry-After``. The client address is
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
        clear_sign_in_failures(request, username)
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


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8", "replace")).hexdigest()


def _normal(username: str) -> str:
    return username.strip().lower()


def _username_key(username: str) -> str:
    return f"sign-in-failures:user:{_digest(_normal(username))}"


def _pair_key(address: str, username: str) -> str:
    return f"sign-in-failures:pair:{_digest(address, _normal(username))}"


def _address_key(address: str) -> str:
    return f"sign-in-failures:address:{address}"


def _is_worker(username: str) -> bool:
    return username == settings.TOONBENCH_REGISTRY_WORKER_USER


def _recent(key: str, now: float) -> list[float]:
    window = settings.TOONBENCH_AUTH_FAILURE_WINDOW_S
    return [stamp for stamp in throttle_cache().get(key, []) if stamp > now - window]


def _wait_for(key: str, limit: int, now: float) -> int:
    """Seconds until ``key`` drops below ``limit`` failures (0 when it is below now)."""
    history = _recent(key, now)
    if len(history) < max(limit, 1):
        return 0
    oldest_counted = sorted(history)[-max(limit, 1)]
    return max(math.ceil(oldest_counted + settings.TOONBENCH_AUTH_FAILURE_WINDOW_S - now), 1)


def _limits(address: str, username: str) -> list[tuple[str, int]]:
    """(key, limit) pairs whose failures hold this attempt, the username-wide one excepted."""
    per_username = settings.TOONBENCH_AUTH_FAILURES_PER_USERNAME
    limits = [(_pair_key(address, username), per_username)]
    if not _is_worker(username):
        limits.append((_address_key(address), settings.TOONBENCH_AUTH_FAILURES_PER_ADDRESS))
    return limits


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
    """Seconds until this address may try this username again, by the failure limits (0: now)."""
    now = time.time()
    address = client_address(request)
    waits = [_wait_for(key, limit, now) for key, limit in _limits(address, username)]
    # An account under attack: the addresses that failed for it wait until it is not, or until their
    # own failures for it have passed; an address that never failed for it (its owner's) goes ahead.
    under_attack = _wait_for(_username_key(username), settings.TOONBENCH_AUTH_FAILURES_PER_ADDRESS, now)
    if under_attack:
        waits.append(min(under_attack, _wait_for(_pair_key(address, username), 1, now)))
    return max(waits)


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
    """Count a failure against the pair, the username and the address (each list keeps what it needs)."""
    now = time.time()
    window = settings.TOONBENCH_AUTH_FAILURE_WINDOW_S
    address = client_address(request)
    keys = [
        (_pair_key(address, username), settings.TOONBENCH_AUTH_FAILURES_PER_USERNAME),
        (_username_key(username), settings.TOONBENCH_AUTH_FAILURES_PER_ADDRESS),
        (_address_key(address), settings.TOONBENCH_AUTH_FAILURES_PER_ADDRESS),
    ]
    for key, limit in keys:
        # Only the newest ``limit`` stamps ever decide a wait, so a flood cannot grow an entry.
        kept = sorted([*_recent(key, now), now])[-max(limit, 1):]
        throttle_cache().set(key, kept, window)


def clear_sign_in_failures(request: HttpRequest, username: str) -> None:
    """After a successful sign-in: this address's failures for the account are forgotten.

    The username-wide count and the address's own count stay: an owner signing
    in does not end an attack on the account, nor the address's other guesses.
    """
    throttle_cache().delete(_pair_key(client_address(request), username))
