"""``ETag`` and ``Last-Modified`` of the leaderboard API, and its answer 304 to a client that is up to date.

A board's content is a digest of everything that can change a leaderboard
(``leaderboards.pagecache.site_version``: a result stored or deleted, a
submission shown, hidden or chosen, a protocol, a benchmark or a phase
edited, a paired test finished) plus the state each of the benchmark's
phases is in now (a phase that opens or closes, or a hidden board that
shows at a phase's close, changes the board with no write at all). The
``ETag`` adds what the answer also depends on: the query, the format and
who asks (a host sees a private phase's rows). ``Last-Modified`` is the
whole second the server first answered with the current content
(``LeaderboardStamp``), always later than the previous content's, so an
``If-Modified-Since`` that predates a change never gets a 304.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from rest_framework.request import Request

from api.models import LeaderboardStamp
from benchmarks.models import Benchmark
from leaderboards.pagecache import site_version

SECOND = timedelta(seconds=1)


def content_digest(benchmark: Benchmark, now: datetime) -> str:
    """What every viewer's board of ``benchmark`` is made from, as a hash."""
    states = tuple((phase.slug, phase.state(now), phase.revealed_at) for phase in benchmark.phases.order_by("pk"))
    return hashlib.sha256(repr((benchmark.slug, site_version(), states)).encode()).hexdigest()


def next_second(moment: datetime) -> datetime:
    """``moment`` rounded up to a whole second (HTTP dates have no fraction)."""
    whole = moment.replace(microsecond=0)
    return whole if whole == moment else whole + SECOND


def changed_at(slug: str, digest: str, now: datetime) -> datetime:
    """When ``digest`` became the board's content, as first seen; a new content moves it at least a second."""
    stamp = LeaderboardStamp.objects.filter(slug=slug).first()
    if stamp is None:
        stamp, _ = LeaderboardStamp.objects.get_or_create(slug=slug, defaults={
            "digest": digest, "changed_at": next_second(now)})
    if stamp.digest == digest:
        return stamp.changed_at
    moved = max(next_second(now), stamp.changed_at + SECOND)
    LeaderboardStamp.objects.filter(pk=stamp.pk, digest=stamp.digest).update(digest=digest, changed_at=moved)
    return LeaderboardStamp.objects.get(pk=stamp.pk).changed_at


def entity_tag(request: Request, digest: str) -> str:
    """The board's content plus what this answer depends on besides: the query, the format and the viewer."""
    viewer = request.user.pk if request.user.is_authenticated else None
    query = sorted(request.query_params.lists())
    representation = (digest, query, request.accepted_renderer.format, viewer)
    return hashlib.sha256(repr(representation).encode()).hexdigest()[:32]
