"""Benchmarks: run as scripts (``python -m bench.core_speed``), never under pytest."""
