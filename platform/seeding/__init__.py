"""Seeding: every bundled baseline submitted to its benchmark's current leaderboard."""
