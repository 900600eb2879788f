"""The illustration-cnn-svm baseline (see method.py)."""
