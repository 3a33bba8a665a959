"""Search across every collection by name, alias or title (`GET /v1/search`, and each `q`)."""
