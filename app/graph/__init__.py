"""The graph of organizations, models, chips and investments, as JSON or GraphML."""
