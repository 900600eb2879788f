"""The icartoonface-densenet-softmax baseline (see method.py)."""
