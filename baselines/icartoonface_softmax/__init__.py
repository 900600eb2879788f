"""The icartoonface-softmax baseline (see method.py)."""
