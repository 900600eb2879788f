"""The cartoon-whitebox baseline (see method.py)."""
