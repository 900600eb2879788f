"""The cartoon-whitebox-classical baseline (see method.py)."""
