"""Domain errors as types, rendered once as RFC 9457 problem+json."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from app.jsonutil import dumps

log = logging.getLogger("aifacts.errors")

PROBLEM_JSON = "application/problem+json"


class AppError(Exception):
    status: int = 500
    title: str | None = None

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[dict[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors) if errors else None
        self.headers = dict(headers or {})


class NotFound(AppError):
    status = 404

    def __init__(self, resource: str, resource_id: str) -> None:
        super().__init__(f"No {resource} has id {resource_id!r}.")


class InvalidParameter(AppError):
    status = 422

    def __init__(self, name: str, msg: str, *, location: str = "query") -> None:
        super().__init__(
            f"Invalid {location} parameter {name!r}: {msg}",
            errors=[{"loc": [location, name], "msg": msg}],
        )


class ServiceUnavailable(AppError):
    status = 503


AUTH_REALM = 'Bearer realm="aifacts"'


class Unauthorized(AppError):
    """No API key, or one that is not known (401 with a Bearer challenge)."""

    status = 401

    def __init__(self, detail: str, *, invalid_token: bool = False) -> None:
        challenge = AUTH_REALM + (', error="invalid_token"' if invalid_token else "")
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


class Forbidden(AppError):
    """A known key without the scope the operation needs, or a revoked key (403)."""

    status = 403

    def __init__(self, detail: str, *, scope: str | None = None) -> None:
        challenge = AUTH_REALM + ', error="insufficient_scope"'
        if scope:
            challenge += f', scope="{scope}"'
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


class Conflict(AppError):
    status = 409


class Gone(AppError):
    status = 410


class PreconditionFailed(AppError):
    status = 412


class PreconditionRequired(AppError):
    status = 428


class UnsupportedMediaType(AppError):
    status = 415


def problem(
    request: Request,
    status: int,
    detail: str,
    *,
    title: str | None = None,
    errors: Sequence[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if errors is not None:
        body["errors"] = list(errors)
    return Response(
        dumps(body), status_code=status, media_type=PROBLEM_JSON, headers=dict(headers or {})
    )


def _loc(loc: Sequence[Any]) -> list[str | int]:
    return [part if isinstance(part, int) else str(part) for part in loc]


async def _app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return problem(
        request, exc.status, exc.detail, title=exc.title, errors=exc.errors, headers=exc.headers
    )


_CHOICES = re.compile(r"\(\?:([a-z0-9_|]+)\)")


def _message(err: Mapping[str, Any]) -> str:
    """Pydantic's message, except that a failed pattern says what the pattern allows."""
    pattern = (err.get("ctx") or {}).get("pattern")
    if err.get("type") != "string_pattern_mismatch" or not isinstance(pattern, str):
        return str(err["msg"])
    choices = _CHOICES.search(pattern)
    if choices:
        names = ", ".join(choices.group(1).split("|"))
        prefix = " (each may start with '-' for descending)" if "[-+]?" in pattern else ""
        return f"expected a comma-separated list of: {names}{prefix}"
    if "[a-z0-9]" in pattern:
        return "expected ids (lowercase letters, digits and '-'), comma-separated"
    if "[A-Za-z]{2}" in pattern:
        return "expected two-letter codes, comma-separated"
    return str(err["msg"])


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [{"loc": _loc(err["loc"]), "msg": _message(err)} for err in exc.errors()]
    names = []
    for err in errors:
        loc = err["loc"]
        assert isinstance(loc, list)
        where = str(loc[0]) if loc else "request"
        name = ".".join(str(p) for p in loc[1:]) or where
        names.append(f"{where} parameter {name!r}: {err['msg']}")
    return problem(request, 422, "Invalid " + "; ".join(names), errors=errors)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"No resource at {request.url.path}."
    headers = exc.headers
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": _allowed_methods(request)}
    return problem(request, exc.status_code, detail, headers=headers)


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    scope = {**request.scope, "method": "GET"}

    def visit(routes: Sequence[Any]) -> None:
        for route in routes:
            router = getattr(route, "original_router", None)
            if router is not None:  # an included router: its own routes
                visit(router.routes)
                continue
            route_methods = getattr(route, "methods", None)
            if route_methods and route.matches(scope)[0] != Match.NONE:
                methods.update(route_methods)

    visit(request.app.routes)
    return ", ".join(sorted(methods))


# SQLSTATE of a statement the server cancelled (here: after STATEMENT_TIMEOUT_S).
_QUERY_CANCELED = "57014"


def _cancelled(exc: Exception) -> bool:
    return getattr(getattr(exc, "orig", None), "sqlstate", None) == _QUERY_CANCELED


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    if _cancelled(exc):
        log.warning("statement cancelled by the statement timeout")
        return problem(
            request,
            503,
            "The query ran longer than the database allows and was cancelled; try again shortly.",
            headers={"Retry-After": "2"},
        )
    log.warning("database unavailable: %s", exc.__class__.__name__)
    return problem(
        request,
        503,
        "The database is not answering; try again shortly.",
        headers={"Retry-After": "2"},
    )


async def _unexpected(request: Request, exc: Exception) -> Response:
    # Logged with its traceback for operators; the client sees no internals.
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(request, 500, "An unexpected error occurred.")


async def _database_error(request: Request, exc: Exception) -> Response:
    # The database's outage or timeout, whatever the driver calls it: psycopg raises an
    # OperationalError for both; asyncpg an InterfaceError for a lost connection (which
    # SQLAlchemy marks invalidated) and a plain DBAPI Error for a cancelled statement.
    if isinstance(exc, DBAPIError) and (exc.connection_invalidated or _cancelled(exc)):
        return await _database_unavailable(request, exc)
    return await _unexpected(request, exc)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(PoolTimeoutError, _database_unavailable)
    # asyncpg's own timeout on a statement the server never answered (a silent network).
    app.add_exception_handler(TimeoutError, _database_unavailable)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(Exception, _unexpected)
