"""Benchmarks: one row per spec file, one protocol version per frozen protocol."""
