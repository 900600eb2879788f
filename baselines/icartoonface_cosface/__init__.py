"""The icartoonface-cosface baseline (see method.py)."""
