"""The whole dataset as one NDJSON stream that the seed loader reads back."""
