"""Logs: one structured line per request, a request id that follows the request everywhere.

Nothing here logs headers or query strings: an API key or token in either never reaches a log.
"""

from __future__ import annotations

import datetime as dt
import logging
import logging.config
import random
import re
import traceback
from contextvars import ContextVar
from typing import Any

import orjson
from starlette.types import Scope

from app.config import Settings

access_log = logging.getLogger("aifacts.access")

REQUEST_ID_HEADER = "X-Request-ID"
# What a client may choose as its request id: short and printable, so it is safe in a log line.
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

# Each request runs in its own task, so the id set at the start is seen by everything the
# request runs, threadpool work included, and by nothing else.
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# The attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "color_message", "taskName"}
)


class RequestIdFilter(logging.Filter):
    """Stamps every record with the id of the request it was logged for (or None)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = "".join(traceback.format_exception(*record.exc_info))
        # str() for whatever an extra holds that JSON has no type for.
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    """For a person at a terminal: time, level, logger, message, and the request id if any."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        return f"{line} [{request_id}]" if request_id else line


def log_config(settings: Settings) -> dict[str, Any]:
    """A dictConfig for the process (given to uvicorn, which applies it in every worker)."""
    level = settings.log_level.upper()
    formatter = "json" if settings.log_format == "json" else "text"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"json": {"()": JsonFormatter}, "text": {"()": TextFormatter}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": formatter,
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["default"], "level": "WARNING"},
        "loggers": {
            "aifacts": {"level": level},
            "alembic": {"level": level},
            "uvicorn": {"level": level},
            # Our access line replaces uvicorn's, which would log the query string.
            "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
            # At INFO SQLAlchemy logs every statement and its parameters.
            "sqlalchemy": {"level": "WARNING"},
        },
    }


def configure_logging(settings: Settings) -> None:
    logging.config.dictConfig(log_config(settings))


def request_id_of(scope: Scope) -> str:
    """The client's X-Request-ID when it is short and printable, else a new one."""
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate: str = value.decode("latin-1")
            if _CLIENT_ID.match(candidate):
                return candidate
            break
    # 128 bits, as many as a uuid4 has, from the process's generator (seeded from the OS,
    # again in each forked worker): an id to follow, not a secret, so no system call for it.
    return f"{random.getrandbits(128):032x}"


def log_request(scope: Scope, route: Any, status: int, seconds: float, request_id: str) -> None:
    """The request's access line; `route`: the one the router matched, if any."""
    # A 500 is a bug; a 503 is the database (logged once more by its handler); the rest is normal.
    level = logging.ERROR if status == 500 else logging.WARNING if status > 500 else logging.INFO
    if not access_log.isEnabledFor(level):
        return  # not even its fields: LOG_LEVEL=warning on a busy server
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    client = scope.get("client")
    duration_ms = round(seconds * 1000, 2)
    access_log.log(
        level,
        "%s %s %d %.1fms",
        scope["method"],
        scope["path"],
        status,
        duration_ms,
        extra={
            "method": scope["method"],
            "route": template,
            "path": scope["path"],
            "status": status,
            "duration_ms": duration_ms,
            "request_id": request_id,
            "client": client[0] if client else None,
        },
    )
