"""The icartoonface-arcface baseline (see method.py)."""
