"""Leaderboards: ranked queries over finished submissions' results."""
