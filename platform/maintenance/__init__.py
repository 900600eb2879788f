"""Maintenance: the periodic pass that keeps the site tidy (dead jobs, abandoned uploads, pending comparisons)."""
