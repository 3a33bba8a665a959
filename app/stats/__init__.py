"""Aggregates over the dataset, computed by the database."""
