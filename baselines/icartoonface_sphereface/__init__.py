"""The icartoonface-sphereface baseline (see method.py)."""
