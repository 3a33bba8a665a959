"""Request ids and the one JSON log line per request."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.ops.logging import JsonFormatter, RequestIdFilter, TextFormatter, log_config


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """What the app logs, formatted as the container formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("aifacts")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(previous)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_request_id_is_echoed(client: TestClient) -> None:
    response = client.get("/v1/models/deepseek-r1", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"


def test_request_id_is_generated_when_absent_or_unusable(client: TestClient) -> None:
    generated = client.get("/healthz").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert client.get("/healthz").headers["X-Request-ID"] != generated
    for unusable in ("x" * 200, "has space", "new\tline"):
        replaced = client.get("/healthz", headers={"X-Request-ID": unusable})
        assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["X-Request-ID"])


def test_one_json_line_per_request(client: TestClient, log_stream: io.StringIO) -> None:
    response = client.get("/v1/models/deepseek-r1", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 200
    [entry] = [e for e in lines(log_stream) if e["logger"] == "aifacts.access"]
    assert entry["method"] == "GET"
    assert entry["route"] == "/v1/models/{id}"
    assert entry["path"] == "/v1/models/deepseek-r1"
    assert entry["status"] == 200
    assert isinstance(entry["duration_ms"], float)
    assert entry["duration_ms"] >= 0
    assert entry["request_id"] == "req-42"
    assert entry["level"] == "info"
    assert entry["ts"].endswith("+00:00")


def test_refusals_and_errors_are_logged_too(client: TestClient, log_stream: io.StringIO) -> None:
    client.get("/v1/models/nope")
    client.post("/healthz", content=b"x" * (1024 * 1024 + 1))
    statuses = [(e["path"], e["status"]) for e in lines(log_stream)]
    assert statuses == [("/v1/models/nope", 404), ("/healthz", 413)]


def test_secrets_never_reach_the_log(client: TestClient, log_stream: io.StringIO) -> None:
    client.get(
        "/v1/models",
        params={"key": "k-s3cret", "token": "t-s3cret", "limit": 1},
        headers={"Authorization": "Bearer b-s3cret", "X-Api-Key": "h-s3cret"},
    )
    client.get("/v1/models/nope", params={"api_key": "q-s3cret"})
    logged = log_stream.getvalue()
    assert logged
    assert "s3cret" not in logged
    assert "key=" not in logged


def test_logs_inside_a_request_carry_its_id(seeded_url: str, log_stream: io.StringIO) -> None:
    app = create_app(Settings(database_url=seeded_url))

    @app.get("/test/log")
    def log_something() -> dict[str, str]:
        # a sync endpoint runs in the threadpool: the id must follow it there
        logging.getLogger("aifacts.test").info("inside the request")
        return {"status": "ok"}

    with TestClient(app) as client:
        client.get("/test/log", headers={"X-Request-ID": "inner-7"})
    [inner] = [e for e in lines(log_stream) if e["logger"] == "aifacts.test"]
    assert inner["request_id"] == "inner-7"
    assert inner["msg"] == "inside the request"


def test_json_formatter_keeps_exceptions_and_odd_values() -> None:
    try:
        raise ValueError("bad")
    except ValueError:
        record = logging.LogRecord("aifacts.x", logging.ERROR, __file__, 1, "failed", None, None)
        record.exc_info = sys.exc_info()
    record.when = object()
    entry = json.loads(JsonFormatter().format(record))
    assert entry["msg"] == "failed"
    assert "ValueError: bad" in entry["exc"]
    assert entry["when"].startswith("<object")


def test_text_format_is_for_people() -> None:
    record = logging.LogRecord("aifacts.access", logging.INFO, __file__, 1, "GET / 200", None, None)
    record.request_id = "r-1"
    assert TextFormatter().format(record).endswith("aifacts.access: GET / 200 [r-1]")


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_log_config_is_valid(fmt: str) -> None:
    config = log_config(Settings.model_validate({"log_format": fmt, "log_level": "debug"}))
    assert config["handlers"]["default"]["formatter"] == fmt
    assert config["loggers"]["aifacts"]["level"] == "DEBUG"
    # uvicorn's own access line (with the query string) is switched off
    assert config["loggers"]["uvicorn.access"]["handlers"] == []
