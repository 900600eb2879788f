"""The toonnet-resnet baseline (see method.py)."""
