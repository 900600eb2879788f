"""Failed image pins count against a per-owner rate.

Pinning a reference makes the site talk to a host the participant chose,
for up to the registry deadline (``TOONBENCH_REGISTRY_TIMEOUT_S``). Each
attempt is counted before it starts and forgiven only when it succeeds, so
parallel attempts cannot all pass a count none of them has added to yet;
past ``TOONBENCH_IMAGE_PIN_FAILURES`` failures in one window of
``TOONBENCH_IMAGE_PIN_FAILURE_WINDOW_S`` seconds, attempts are refused with
the seconds to wait (answered as 429 with ``Retry-After``). Counts live in
the ``throttle`` cache that every web process shares.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import BaseCache

from accounts.throttle import throttle_cache


class TooManyFailedAttempts(Exception):
    """The owner's failed pins are over the limit; ``retry_after_s`` says when the window ends."""

    def __init__(self, limit: int, window_s: int, retry_after_s: int) -> None:
        minutes = max(math.ceil(retry_after_s / 60), 1)
        super().__init__(
            f"{limit} of your image references failed to resolve within {math.ceil(window_s / 60)} minutes, "
            f"the most allowed; fix the reference and try again in {minutes} minutes"
        )
        self.retry_after_s = retry_after_s


@contextmanager
def failed_attempt_counted(owner: AbstractBaseUser) -> Iterator[None]:
    """Run the block as one attempt: counted as failed unless it ends without an exception."""
    limit = int(settings.TOONBENCH_IMAGE_PIN_FAILURES)
    window_s = int(settings.TOONBENCH_IMAGE_PIN_FAILURE_WINDOW_S)
    now = time.time()
    window = int(now // window_s)
    key = f"image-pin-failures:{owner.pk}:{window}"
    cache = throttle_cache()
    if _count(cache, key, window_s) > limit:
        _forgive(cache, key)
        raise TooManyFailedAttempts(limit, window_s, max(math.ceil((window + 1) * window_s - now), 1))
    yield
    _forgive(cache, key)


def _count(cache: BaseCache, key: str, window_s: int) -> int:
    """Add this attempt to the window's count and return the new count."""
    cache.add(key, 0, window_s)
    try:
        return int(cache.incr(key))
    except ValueError:  # the window's entry expired in between
        cache.set(key, 1, window_s)
        return 1


def _forgive(cache: BaseCache, key: str) -> None:
    try:
        cache.decr(key)
    except ValueError:
        pass
