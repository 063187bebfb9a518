"""Evaluation: metrics and adapters for real data sets."""
