"""Benchmark scripts; each writes its section of docs/BENCHMARKS.md."""
