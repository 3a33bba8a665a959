"""Running in production: logs, metrics, limits and security headers around the app."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware

from app.config import Settings
from app.ops.limits import BodySizeLimitMiddleware, RateLimitMiddleware
from app.ops.logging import RequestContextMiddleware
from app.ops.metrics import install_metrics
from app.ops.security import SecurityHeadersMiddleware, docs_paths, install_cors


def install_ops(app: FastAPI, settings: Settings) -> None:
    """Wrap the app; the last middleware added runs first on the way in.

    In: security headers → request id and access log → metrics → CORS → gzip → rate limit →
    body size → routes. Everything a limit refuses is still measured, logged and headed.
    """
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.rate_limit_enabled:
        app.add_middleware(
            RateLimitMiddleware,
            reads_per_minute=settings.rate_limit_per_minute,
            writes_per_minute=settings.rate_limit_writes_per_minute,
        )
    # Level 6: nearly level 9's ratio for JSON at a fraction of the CPU.
    app.add_middleware(GZipMiddleware, minimum_size=1000, compresslevel=6)
    install_cors(app, settings.cors_origins)
    if settings.metrics_enabled:
        install_metrics(app)
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, docs_paths=docs_paths(app))
