"""The cartoon-cartoongan baseline (see method.py)."""
