"""Application factory: routers, error handlers, and the engine's lifetime."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi._body_limit import AppBodyLimitMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.telemetry._asgi import ExceptionTelemetryMiddleware
from fastapi_offline import FastAPIOffline
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp

from app import __version__
from app.ai_models.router import router as models_router
from app.api import Problem
from app.cache.middleware import ResponseCacheStats
from app.cache.version import DatasetVersion
from app.chip_support.router import router as chip_support_router
from app.chips.router import router as chips_router
from app.config import Settings, get_settings
from app.curation.router import router as curation_router
from app.db import LOOP_READS, make_engines
from app.documents.router import router as documents_router
from app.errors import install_error_handlers, problem
from app.export.router import router as export_router
from app.graph.router import router as graph_router
from app.investments.router import router as investments_router
from app.jsonutil import JSONResponse
from app.ops import install_ops
from app.organizations.router import router as organizations_router
from app.search.router import router as search_router
from app.stats.router import router as stats_router

DESCRIPTION = """
Facts about the AI landscape — models, organizations, investments, and which chips support
which models — where every value is traced to a verbatim quote in a source document.

Every fact carries `citations`: `quote == document.text[start:end]`, so a client can check each
quote against `GET /v1/documents/{id}`. Lists page with `limit` and an opaque `cursor`; errors
are `application/problem+json` (RFC 9457).
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engines = make_engines(settings)
        app.state.engine, app.state.read_engine = engines.writes, engines.reads
        app.state.loop_engine = engines.loop.sync_engine if engines.loop else None
        app.state.loop_turns = asyncio.Semaphore(LOOP_READS)
        app.state.slow_reads = anyio.CapacityLimiter(settings.slow_read_threads)
        if settings.response_cache_enabled:
            app.state.dataset_version.start(app.state.engine)
        try:
            yield
        finally:
            app.state.dataset_version.stop()
            await engines.dispose()

    app = FastAPIOffline(
        title="aifacts",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        default_response_class=JSONResponse,
        favicon_url=None,
        telemetry={
            "tracing": settings.opentelemetry,
            "metrics": settings.opentelemetry,
            "logs": settings.opentelemetry,
        },
    )
    app.state.settings = settings
    app.state.dataset_version = DatasetVersion(settings.dataset_poll_interval_s)
    app.state.response_cache_stats = ResponseCacheStats()
    install_error_handlers(app)
    for router in (
        organizations_router,
        models_router,
        chips_router,
        chip_support_router,
        investments_router,
        documents_router,
        search_router,
        export_router,
        graph_router,
        stats_router,
        curation_router,
    ):
        # The routes themselves, not the router: an included router is matched on every
        # request before its routes are (twice the work of matching the route).
        app.router.routes.extend(router.routes)
    # Routes are matched in order: the API's before the documentation's five, which no /v1
    # path matches and every request tried first.
    app.router.routes.sort(key=lambda route: not getattr(route, "path", "").startswith("/v1/"))

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        """200 while the process is up."""
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["operations"],
        responses={
            503: {
                "description": "The database is not answering.",
                "model": Problem,
                "content": {"application/problem+json": {}},
            }
        },
    )
    def readyz(request: Request) -> Any:
        """200 when the database answers, 503 when it does not."""
        try:
            with request.app.state.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return problem(request, 503, "The database is not answering.")
        return {"status": "ready"}

    install_ops(app, settings)
    idle: tuple[type, ...] = () if settings.opentelemetry else (ExceptionTelemetryMiddleware,)
    if app.max_body_size is None:
        idle += (AppBodyLimitMiddleware,)
    build_stack = app.build_middleware_stack
    app.build_middleware_stack = lambda: _without(idle, build_stack())  # type: ignore[method-assign]
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _without(idle: tuple[type, ...], stack: ASGIApp) -> ASGIApp:
    """FastAPI's middleware stack without the layers that do nothing in this app, each a
    coroutine every request went through: its request-body limit (the app's own is
    `app.ops.edge.BodyMiddleware`, FastAPI's is unset and holds the app it wraps as it is)
    and, with OpenTelemetry off, the recorder of exceptions for its spans."""
    layer: Any = stack
    inner: Any = getattr(layer, "app", None)
    while inner is not None:
        if type(inner) in idle:
            layer.app = inner.app
        else:
            layer = inner
        inner = getattr(layer, "app", None)
    return stack


_ITEM_SCHEMAS = (
    "OrganizationPublic",
    "ModelPublic",
    "ChipPublic",
    "ChipSupportPublic",
    "InvestmentPublic",
)


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with every error response declared as problem+json."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    for path_item in schema["paths"].values():
        for operation in path_item.values():
            for code, response in operation.get("responses", {}).items():
                if code[0] in "45":
                    response["content"] = {"application/problem+json": {"schema": problem_ref}}
                if code == "422":
                    response["description"] = "An invalid parameter, named in detail and errors."
    components = schema["components"]["schemas"]
    # `fields=` may leave out any field but `id`, so only `id` is promised on items.
    for name in _ITEM_SCHEMAS:
        components[name]["required"] = ["id"]
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    app.openapi_schema = schema
    return schema
