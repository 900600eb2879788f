"""The illustration-cnn-svm-optimized baseline (see method.py)."""
