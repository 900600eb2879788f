"""The cartoon-opencv-stylization baseline (see method.py)."""
