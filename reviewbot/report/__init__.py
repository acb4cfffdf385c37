"""Formatters: one module per output format."""
