"""Whole answers kept in memory until the dataset changes."""
