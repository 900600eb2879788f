"""The toonnet-fin baseline (see method.py)."""
