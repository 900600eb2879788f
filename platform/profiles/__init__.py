"""A participant's public profile: their public entries, with what the leaderboards show of each."""
