"""Jixiao: scores government project performance evaluations from versioned rule packs."""

__version__ = "0.1.0"
