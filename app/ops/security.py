"""Security headers on every response, and CORS for the origins configured."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

# The API answers JSON only: nothing may load from it, frame it or run in it.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Swagger UI and ReDoc load their own assets from this server; Swagger UI starts from an inline
# script, ReDoc styles itself inline, draws data: images and searches in a blob: worker.
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# What a browser client may read beyond the CORS-safelisted response headers.
EXPOSED_HEADERS = (
    "Link",
    "Retry-After",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "X-Request-ID",
)


def _encoded(headers: dict[str, str]) -> tuple[tuple[bytes, bytes], ...]:
    return tuple((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items())


# Added to every answer that does not set them itself (`app.ops.edge`).
API_HEADERS = _encoded({**COMMON_HEADERS, "Content-Security-Policy": API_CSP})
DOCS_HEADERS = _encoded({**COMMON_HEADERS, "Content-Security-Policy": DOCS_CSP})


def docs_paths(app: FastAPI) -> list[str]:
    # FastAPIOffline serves the pages at its defaults and leaves docs_url and redoc_url unset.
    paths = [app.docs_url or "/docs", app.redoc_url or "/redoc", app.swagger_ui_oauth2_redirect_url]
    return [path for path in paths if path]


def install_cors(app: FastAPI, origins: list[str]) -> None:
    """Closed unless origins are configured; reads only need no credentials (no cookies)."""
    if not origins:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_methods=["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
        expose_headers=list(EXPOSED_HEADERS),
        max_age=600,
    )
