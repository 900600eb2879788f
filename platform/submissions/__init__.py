"""Submissions: the intake of what participants hand in (form, input check, quota) and their own actions on it."""
