"""Who hosts a benchmark, and what its hosts may change about its hosts.

A benchmark's hosts are the site's staff plus the users named in
``BenchmarkHost``: one owner, who adds and removes co-organisers, and the
co-organisers, who run the competition with the owner. A refused change
raises ``OrganiserRefused`` with one line and changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from benchmarks.models import Benchmark, Phase
from datasets.phases import Visibility
from organisers.models import BenchmarkHost, HostRole

AnyUser = AbstractBaseUser | AnonymousUser


class OrganiserRefused(ValueError):
    """A host or registration change that cannot apply; the message says why in one line."""


def is_host(user: AnyUser, benchmark: Benchmark) -> bool:
    """Whether ``user`` runs ``benchmark``'s competition: the site's staff, or one of its hosts."""
    if not user.is_authenticated:
        return False
    return bool(user.is_staff) or BenchmarkHost.objects.filter(benchmark=benchmark, user=user).exists()


def is_owner(user: AnyUser, benchmark: Benchmark) -> bool:
    """Whether ``user`` may add and remove ``benchmark``'s co-organisers: the staff, or its owner."""
    if not user.is_authenticated:
        return False
    return bool(user.is_staff) or BenchmarkHost.objects.filter(
        benchmark=benchmark, user=user, role=HostRole.OWNER).exists()


def phase_leaderboard_visible(phase: Phase, user: AnyUser, now: datetime) -> bool:
    """Whether ``user`` may see ``phase``'s leaderboard at ``now``: hosts always; everyone else on a public or
    ladder board, on a hidden-until-close one after its close or once revealed, and never on a private one."""
    if is_host(user, phase.benchmark):
        return True
    if phase.leaderboard == Visibility.hidden_until_close:
        return phase.revealed_at is not None or now >= phase.closes
    return phase.leaderboard != Visibility.private


def add_co_organiser(actor: AnyUser, benchmark: Benchmark, user: AbstractBaseUser) -> BenchmarkHost:
    """Make ``user`` a co-organiser of ``benchmark``; only its owner (or the staff) may."""
    _require(is_owner(actor, benchmark), f"only the owner of {benchmark.slug} may add or remove co-organisers")
    _require(not BenchmarkHost.objects.filter(benchmark=benchmark, user=user).exists(),
             f"user: {user.get_username()} already hosts {benchmark.slug}")
    return BenchmarkHost.objects.create(benchmark=benchmark, user=user, role=HostRole.CO_ORGANISER)


def remove_co_organiser(actor: AnyUser, benchmark: Benchmark, user: AbstractBaseUser) -> None:
    """Take ``user`` off ``benchmark``'s co-organisers; the owner stays (the staff change owners in the admin)."""
    _require(is_owner(actor, benchmark), f"only the owner of {benchmark.slug} may add or remove co-organisers")
    host = BenchmarkHost.objects.filter(benchmark=benchmark, user=user).first()
    _require(host is not None, f"user: {user.get_username()} is not a co-organiser of {benchmark.slug}")
    _require(host.role != HostRole.OWNER, f"user: {user.get_username()} owns {benchmark.slug}; an owner stays")
    host.delete()


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise OrganiserRefused(message)
