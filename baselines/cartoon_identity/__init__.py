"""The cartoon-identity baseline (see method.py)."""
