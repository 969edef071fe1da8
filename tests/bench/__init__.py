"""Benchmarks and comparisons (`make bench`): outside the production path."""
