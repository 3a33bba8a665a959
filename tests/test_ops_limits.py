"""Limits and headers: rate per client, body size, statement timeout, gzip, CORS, security
headers; every refusal is problem+json."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from app import db, reads
from app.config import Settings
from app.db import SessionDep, loop_session, on_the_loop
from app.main import create_app
from app.ops.edge import BodyMiddleware
from app.ops.limits import TokenBuckets
from app.reads import read_rows

PROBLEM = "application/problem+json"


def test_reads_past_the_rate_get_429_with_retry_after(seeded_url: str) -> None:
    settings = Settings(
        database_url=seeded_url,
        rate_limit_enabled=True,
        rate_limit_per_minute=5,
        rate_limit_writes_per_minute=2,
    )
    with TestClient(create_app(settings)) as client:
        remaining = []
        for _ in range(5):
            response = client.get("/v1/models/deepseek-r1")
            assert response.status_code == 200
            assert response.headers["RateLimit-Limit"] == "5"
            remaining.append(int(response.headers["RateLimit-Remaining"]))
        assert remaining == [4, 3, 2, 1, 0]

        refused = client.get("/v1/models")
        assert refused.status_code == 429
        assert refused.headers["content-type"] == PROBLEM
        assert refused.json()["status"] == 429
        assert refused.json()["instance"] == "/v1/models"
        # one token comes back every 12 s at 5 a minute
        assert 1 <= int(refused.headers["Retry-After"]) <= 12
        assert refused.headers["RateLimit-Remaining"] == "0"
        assert 0 < int(refused.headers["RateLimit-Reset"]) <= 60
        assert refused.headers["X-Request-ID"]

        # probes are never throttled
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200

        # writes have their own bucket: two refused for want of a key, then throttled
        assert client.post("/v1/models", json={}).status_code == 401
        assert client.post("/v1/models", json={}).status_code == 401
        throttled = client.post("/v1/models", json={})
        assert throttled.status_code == 429
        assert throttled.headers["RateLimit-Limit"] == "2"


def test_rate_limit_is_off_by_default(client: TestClient) -> None:
    response = client.get("/v1/models/deepseek-r1")
    assert "RateLimit-Limit" not in response.headers


def test_token_bucket_refills_with_time() -> None:
    now = [100.0]
    buckets = TokenBuckets(60, clock=lambda: now[0])
    for _ in range(60):
        assert buckets.take("1.2.3.4").allowed
    denied = buckets.take("1.2.3.4")
    assert not denied.allowed
    assert denied.retry_after_s == 1
    assert buckets.take("5.6.7.8").allowed  # another client, its own bucket
    now[0] += 1.0
    assert buckets.take("1.2.3.4").allowed
    assert not buckets.take("1.2.3.4").allowed
    now[0] += 120.0
    full = buckets.take("1.2.3.4")
    assert full.remaining == 59
    assert full.reset_s == 1


def test_token_buckets_forget_idle_clients() -> None:
    now = [0.0]
    buckets = TokenBuckets(60, clock=lambda: now[0])
    buckets.MAX_KEYS = 10
    for i in range(10):
        buckets.take(f"10.0.0.{i}")
    now[0] += 60.0
    buckets.take("10.0.1.1")
    assert len(buckets.buckets) == 1


def test_oversized_body_is_413_before_routing(seeded_url: str) -> None:
    settings = Settings(database_url=seeded_url, max_body_bytes=1000)
    with TestClient(create_app(settings)) as client:
        # /healthz has no POST: the size is refused before the router could say 405
        declared = client.post("/healthz", content=b"x" * 1001)
        assert declared.status_code == 413
        assert declared.headers["content-type"] == PROBLEM
        assert "1000 bytes" in declared.json()["detail"]

        def chunks() -> Iterator[bytes]:
            for _ in range(5):
                yield b"y" * 300

        streamed = client.post("/v1/models", content=chunks())  # chunked: no Content-Length
        assert streamed.status_code == 413
        assert streamed.headers["content-type"] == PROBLEM

        # within the limit the request goes on to the router
        assert client.post("/healthz", content=b"x" * 1000).status_code == 405
        assert client.post("/healthz", content=iter([b"z" * 500, b"z" * 500])).status_code == 405


@pytest.mark.parametrize(
    ("http_version", "headers", "reaches_the_app"),
    [
        ("1.1", [], True),  # HTTP/1.1 without Content-Length or Transfer-Encoding: no body
        ("1.1", [(b"transfer-encoding", b"chunked")], False),
        ("2", [], False),  # HTTP/2 frames its body without either header
    ],
)
def test_a_body_not_announced_by_its_headers_is_still_counted(
    http_version: str, headers: list[tuple[bytes, bytes]], reaches_the_app: bool
) -> None:
    reached: list[bytes] = []

    async def app(_scope: Any, receive: Any, send: Any) -> None:
        message = await receive()
        reached.append(message.get("body", b""))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    sent: list[Any] = []
    body = [
        {"type": "http.request", "body": b"x" * 600, "more_body": True},
        {"type": "http.request", "body": b"x" * 600, "more_body": False},
    ]

    async def receive() -> Any:
        return body.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "http_version": http_version,
        "method": "POST",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "headers": headers,
        "scheme": "http",
        "server": ("test", 80),
        "client": ("127.0.0.1", 1),
        "root_path": "",
        "app": None,
    }
    limited = BodyMiddleware(app, max_bytes=1000, minimum_size=1000, compresslevel=6)
    asyncio.run(limited(scope, receive, send))
    status = sent[0]["status"]
    if reaches_the_app:
        # what a server gives for such a request's body is the app's to read, unrefused
        assert (status, reached) == (204, [b"x" * 600])
    else:
        assert (status, reached) == (413, [])


def test_default_body_limit_is_one_mebibyte(client: TestClient) -> None:
    assert client.post("/v1/models", content=b"x" * (1024 * 1024 + 1)).status_code == 413


# A statement kept and used again, as the pages' are: `read_rows` sends it through asyncpg.
SLOW_KEPT = select(func.pg_sleep(10).label("slept"))


def add_slow_read_on_the_loop(app: FastAPI) -> None:
    """GET /test/slow-on-the-loop: a 10 s statement through the event loop's pool, by
    SQLAlchemy; /test/slow-kept-on-the-loop: the same as a kept statement (`read_rows`)."""

    async def slow(request: Request, *, kept: bool) -> dict[str, str]:
        session = loop_session(request)
        assert session is not None

        async def read() -> None:
            with session:
                if kept:
                    read_rows(session, SLOW_KEPT, {})
                else:
                    session.connection().execute(text("SELECT pg_sleep(10)"))

        await on_the_loop(read(), request.app.state.loop_turns)
        return {"status": "finished"}

    @app.get("/test/slow-on-the-loop")
    async def slow_on_the_loop(request: Request) -> dict[str, str]:
        return await slow(request, kept=False)

    @app.get("/test/slow-kept-on-the-loop")
    async def slow_kept_on_the_loop(request: Request) -> dict[str, str]:
        return await slow(request, kept=True)


@pytest.mark.parametrize(
    "path", ["/test/slow", "/test/slow-on-the-loop", "/test/slow-kept-on-the-loop"]
)
def test_statement_timeout_is_503_problem(seeded_url: str, backend: str, path: str) -> None:
    """In a worker thread on the blocking pool (psycopg) and on the event loop's (asyncpg,
    through SQLAlchemy and as a kept statement)."""
    if backend != "postgresql":
        pytest.skip("statement timeouts are PostgreSQL's")
    # 1 s, not less: the check afterwards runs under the same timeout, and this machine's
    # VM has been seen to stall a fast read past 0.3 s.
    app = create_app(Settings(database_url=seeded_url, statement_timeout_s=1))

    @app.get("/test/slow")
    def slow(session: SessionDep) -> dict[str, str]:
        session.execute(text("SELECT pg_sleep(10)"))
        return {"status": "finished"}

    add_slow_read_on_the_loop(app)

    with TestClient(app) as client:
        if "kept" in path:  # read by asyncpg itself, not through SQLAlchemy
            assert reads._plan(SLOW_KEPT, app.state.loop_engine.dialect) is not None
        start = time.perf_counter()
        response = client.get(path)
        elapsed = time.perf_counter() - start
        assert response.status_code == 503
        assert response.headers["content-type"] == PROBLEM
        assert "cancelled" in response.json()["detail"]
        assert response.headers["Retry-After"]
        assert elapsed < 4
        # the connection is fine afterwards
        assert client.get("/v1/models/deepseek-r1").status_code == 200


@pytest.mark.parametrize("path", ["/test/slow-on-the-loop", "/test/slow-kept-on-the-loop"])
def test_a_statement_the_network_never_answers_is_503(
    seeded_url: str, backend: str, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the event loop's pool the client gives up on its own (asyncpg's command timeout)
    when the server's statement timeout never comes back: here the server's is the longer."""
    if backend != "postgresql":
        pytest.skip("the event loop's own engine is PostgreSQL's")
    given = db._asyncpg_connect_args

    def impatient(settings: Settings) -> dict[str, Any]:
        return given(settings) | {"command_timeout": 1.0}

    monkeypatch.setattr(db, "_asyncpg_connect_args", impatient)
    app = create_app(Settings(database_url=seeded_url, statement_timeout_s=30))

    add_slow_read_on_the_loop(app)

    with TestClient(app) as client:
        if "kept" in path:
            assert reads._plan(SLOW_KEPT, app.state.loop_engine.dialect) is not None
        start = time.perf_counter()
        response = client.get(path)
        assert response.status_code == 503
        assert response.headers["content-type"] == PROBLEM
        assert time.perf_counter() - start < 4
        assert client.get("/v1/models/deepseek-r1").status_code == 200


def test_large_responses_are_gzipped(client: TestClient) -> None:
    response = client.get("/v1/models", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    small = client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers  # under the minimum size


def test_answers_to_clients_without_gzip_are_plain_and_say_they_vary(client: TestClient) -> None:
    zipped = client.get("/v1/models", headers={"Accept-Encoding": "gzip"})
    plain = client.get("/v1/models", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert "content-encoding" not in plain.headers
    assert plain.json() == zipped.json()
    assert int(plain.headers["content-length"]) == len(plain.content)
    vary = {v.strip() for v in plain.headers["vary"].split(",")}
    assert {"Accept", "Accept-Encoding"} <= vary


def test_cors_is_closed_by_default(client: TestClient) -> None:
    response = client.get("/v1/models", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers


def test_cors_allows_the_configured_origins(seeded_url: str) -> None:
    settings = Settings(database_url=seeded_url, cors_origins=["https://app.example"])
    with TestClient(create_app(settings)) as client:
        allowed = client.get("/v1/models", headers={"Origin": "https://app.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        assert "RateLimit-Remaining" in allowed.headers["access-control-expose-headers"]
        other = client.get("/v1/models", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        preflight = client.options(
            "/v1/models",
            headers={
                "Origin": "https://app.example",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "X-Request-ID",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://app.example"


def test_cors_origins_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    assert Settings().cors_origins == ["https://a.example", "https://b.example"]
    monkeypatch.setenv("CORS_ORIGINS", "")
    assert Settings().cors_origins == []


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/v1/models/deepseek-r1", 200),
        ("/v1/models/nope", 404),
        ("/v1/models?limit=0", 422),
        ("/healthz", 200),
        ("/metrics", 200),
        ("/openapi.json", 200),
    ],
)
def test_security_headers_on_every_response(client: TestClient, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status
    for name, expected in SECURITY_HEADERS.items():
        assert response.headers[name] == expected
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_unexpected_errors_are_problem_json_with_headers(seeded_url: str) -> None:
    app = create_app(Settings(database_url=seeded_url))

    @app.get("/test/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/test/boom", headers={"X-Request-ID": "boom-1"})
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert "a bug" not in response.text
    assert response.headers["X-Request-ID"] == "boom-1"
    for name, expected in SECURITY_HEADERS.items():
        assert response.headers[name] == expected


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_pages_get_a_policy_that_lets_them_run(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["Content-Security-Policy"].split(";")
    )
    assert "'self'" in policy["script-src"]
    assert "'unsafe-inline'" in policy["script-src"]  # Swagger UI starts from an inline script
    assert "'self'" in policy["style-src"]
    assert "'self'" in policy["connect-src"]  # the pages fetch /openapi.json
    # every asset the page loads is served by this app, so 'self' covers it
    assets = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert assets
    for asset in assets:
        assert asset.startswith("/"), asset
        assert client.get(asset).status_code == 200


def test_head_answers_as_get_without_the_body(client: TestClient) -> None:
    for path in ("/v1/models", "/v1/models/deepseek-r1", "/v1/models?format=csv", "/healthz"):
        got = client.get(path, headers={"Accept-Encoding": "identity"})
        head = client.head(path, headers={"Accept-Encoding": "identity"})
        assert head.status_code == got.status_code == 200, path
        assert head.content == b"", path
        for name in ("content-type", "etag", "content-length", "vary"):
            assert head.headers.get(name) == got.headers.get(name), (path, name)
    missing = client.head("/v1/models/no-such-model")
    assert missing.status_code == 404
    assert missing.content == b""
    etag = client.get("/v1/models").headers["etag"]
    assert client.head("/v1/models", headers={"If-None-Match": etag}).status_code == 304
