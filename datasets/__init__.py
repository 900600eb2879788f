"""Benchmark specs, real-data adapters, synthetic generators and frozen protocols.

Never imports Django: it runs in workers and in a participant's dev kit.
"""
