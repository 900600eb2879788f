"""The toonnet-npn baseline (see method.py)."""
