"""The toonnet-ius baseline (see method.py)."""
