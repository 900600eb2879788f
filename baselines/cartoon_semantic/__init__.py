"""The cartoon-semantic baseline (see method.py)."""
