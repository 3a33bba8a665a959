"""The response cache: repeated GETs answered from memory, 304s without a query, and nothing
stale after a write — from this process at once, from another process within a second."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.config import Settings
from app.main import create_app
from tests.curation_support import bearer, cite, new_key

MODEL = "/v1/models/deepseek-r1"


def stats(client: TestClient) -> Any:
    return client.app.state.response_cache_stats  # type: ignore[attr-defined]


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_a_repeated_get_is_answered_from_the_cache(api: TestClient) -> None:
    first = api.get("/v1/models", params={"limit": 3})
    hits = stats(api).hits
    second = api.get("/v1/models", params={"limit": 3})
    assert stats(api).hits == hits + 1
    assert second.content == first.content
    assert second.headers["etag"] == first.headers["etag"]
    assert second.headers["link"] == first.headers["link"]
    # What the layers outside the cache add is per request, never replayed from it.
    assert second.headers["x-request-id"] != first.headers["x-request-id"]
    assert second.headers["x-content-type-options"] == "nosniff"
    assert second.headers["content-type"] == "application/json"


def test_a_cached_answer_still_meets_if_none_match_with_304(api: TestClient) -> None:
    etag = api.get(MODEL).headers["etag"]
    api.get(MODEL)
    not_modified = stats(api).not_modified
    response = api.get(MODEL, headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert stats(api).not_modified == not_modified + 1
    other = api.get(MODEL, headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200


def test_gzip_and_plain_answers_are_kept_apart(api: TestClient) -> None:
    for _ in range(2):
        zipped = api.get("/v1/models", headers={"Accept-Encoding": "gzip"})
        assert zipped.headers["content-encoding"] == "gzip"
        plain = api.get("/v1/models", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers
        assert zipped.json() == plain.json()


def test_errors_and_requests_with_credentials_are_not_kept(api: TestClient) -> None:
    for _ in range(2):
        assert api.get("/v1/models/no-such-model").status_code == 404
    kept = stats(api).entries
    assert api.get("/v1/models/no-such-model").status_code == 404
    assert stats(api).entries == kept
    bypassed = stats(api).bypassed
    api.get(MODEL, headers={"Authorization": "Bearer whatever"})
    assert stats(api).bypassed == bypassed + 1


def test_a_write_here_is_seen_by_the_next_read(api: TestClient, engine: Engine) -> None:
    key = new_key(engine, "cache-writer", ["write"])
    before = api.get(MODEL)
    api.get(MODEL)  # now cached
    response = api.patch(
        MODEL,
        json={"license": "MIT", "citations": [cite(field="license")]},
        headers=bearer(key, **{"If-Match": before.headers["etag"]}),
    )
    assert response.status_code == 200, response.text
    after = api.get(MODEL)
    assert after.json()["license"] == "MIT"
    assert after.headers["etag"] != before.headers["etag"]


def _wait_for(client: TestClient, path: str, check: Any, seconds: float = 1.0) -> float:
    """Seconds until `check(body)` holds; fails past `seconds` (the promised staleness)."""
    start = time.monotonic()
    while True:
        body = client.get(path).json()
        waited = time.monotonic() - start
        if check(body):
            return waited
        assert waited < seconds, f"still the old answer after {waited:.2f} s: {body}"
        time.sleep(0.02)


def test_a_write_from_another_process_is_seen_within_a_second(
    api: TestClient, engine: Engine
) -> None:
    api.get("/v1/chips")
    api.get("/v1/chips")  # cached
    script = textwrap.dedent(
        f"""
        from sqlalchemy import text
        from app.config import Settings
        from app.db import make_engine
        engine = make_engine(Settings(database_url={url_of(engine)!r}))
        with engine.begin() as conn:
            conn.execute(text("UPDATE chips SET description = 'changed elsewhere'"))
        engine.dispose()
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    _wait_for(
        api,
        "/v1/chips",
        lambda body: all(c["description"] == "changed elsewhere" for c in body["data"]),
    )


def test_a_raw_sqlite_write_is_seen_within_a_second(
    api: TestClient, engine: Engine, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("any writer of the file changes SQLite's data_version")
    api.get("/v1/organizations/deepseek")
    script = textwrap.dedent(
        f"""
        import sqlite3
        conn = sqlite3.connect({engine.url.database!r})
        conn.execute("UPDATE organizations SET city = 'Elsewhere' WHERE id = 'deepseek'")
        conn.commit()
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    _wait_for(api, "/v1/organizations/deepseek", lambda body: body["city"] == "Elsewhere")


def test_memory_stays_within_its_bound(engine: Engine) -> None:
    settings = Settings(database_url=url_of(engine), response_cache_mb=1, response_cache_entry_kb=2)
    with TestClient(create_app(settings)) as client:
        for limit in range(1, 120):
            assert client.get("/v1/organizations", params={"limit": limit}).status_code == 200
        kept = stats(client)
        assert 0 < kept.bytes <= 1024 * 1024
        # the big answers were too big to keep, the small ones are there
        assert kept.entries < 119


def test_the_cache_can_be_turned_off(engine: Engine) -> None:
    settings = Settings(database_url=url_of(engine), response_cache_enabled=False)
    with TestClient(create_app(settings)) as client:
        for _ in range(3):
            assert client.get(MODEL).status_code == 200
        assert stats(client).hits == 0


def test_the_cache_is_measured(api: TestClient) -> None:
    api.get(MODEL)
    api.get(MODEL)
    text = api.get("/metrics").text
    assert 'aifacts_response_cache_requests_total{result="hits"}' in text
    assert "aifacts_response_cache_bytes" in text


def test_lists_tell_shared_caches_they_vary_on_accept(api: TestClient) -> None:
    # A list is JSON, CSV or NDJSON by the Accept header: a CDN must not mix them up.
    for headers in ({}, {"Accept": "text/csv"}, {"Accept": "application/x-ndjson"}):
        vary = api.get("/v1/models", headers=headers).headers["vary"]
        assert "Accept" in [v.strip() for v in vary.split(",")], (headers, vary)
    zipped = api.get("/v1/models", headers={"Accept-Encoding": "gzip"}).headers["vary"]
    assert {"Accept", "Accept-Encoding"} <= {v.strip() for v in zipped.split(",")}
