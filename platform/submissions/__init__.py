"""Submissions: what participants upload, the evaluation jobs and their results."""
