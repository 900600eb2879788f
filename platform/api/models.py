"""When each leaderboard's content last changed, as the API answers ``Last-Modified`` (``api.freshness``)."""

from __future__ import annotations

from django.db import models


class LeaderboardStamp(models.Model):
    """A benchmark's leaderboard content (``digest``) and the whole second it was first served at.

    Kept in the database, so every web process answers the same time for the same content.
    """

    slug = models.SlugField(max_length=50, unique=True)
    digest = models.CharField(max_length=64)
    changed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.slug} changed at {self.changed_at:%Y-%m-%d %H:%M:%S}"
