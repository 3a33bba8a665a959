"""Outages and shutdown: PostgreSQL going away gives fast 503s and the same app recovers;
SIGTERM lets the request in flight finish and the process exits 0."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from app import db as app_db
from app.config import ROOT, Settings
from app.db import SessionDep
from app.main import create_app

PROBLEM = "application/problem+json"
# What a client may wait for an answer while the database is away.
OUTAGE_BUDGET_S = 2.5


class TcpProxy:
    """A TCP relay to the database that a test can cut (listener and every connection closed,
    so new connections are refused and open ones reset) and restore on the same port."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))  # SO_REUSEADDR on POSIX
        listener.settimeout(0.1)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._acceptor = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._acceptor.start()

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            # The port is free for start() only once the accept loop has let go of it.
            assert self._acceptor is not None
            self._acceptor.join(timeout=2)
            listener.close()
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            _close(conn)

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.upstream, timeout=2)
            except OSError:
                _close(client)
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                self._connections += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(src, dst), daemon=True).start()


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    _close(src)
    _close(dst)


def _close(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by the other side
        conn.shutdown(socket.SHUT_RDWR)
    conn.close()


@pytest.fixture
def proxied_url(seeded_url: str, backend: str) -> Iterator[tuple[str, TcpProxy]]:
    if backend != "postgresql":
        pytest.skip("an outage of a database server (SQLite is a file)")
    url = make_url(seeded_url)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.start()
    yield url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False), proxy
    proxy.cut()


def _timed_get(client: TestClient, path: str) -> tuple[httpx.Response, float]:
    start = time.perf_counter()
    response = client.get(path)
    return response, time.perf_counter() - start


PATHS = ["/readyz", "/v1/models/deepseek-r1", "/v1/models?limit=5", "/v1/organizations"]


def test_database_outage_is_503_fast_and_recovers(proxied_url: tuple[str, TcpProxy]) -> None:
    url, proxy = proxied_url
    app = create_app(Settings(database_url=url))
    with TestClient(app) as client:
        for _ in range(3):
            for path in PATHS:
                assert client.get(path).status_code == 200, path

        proxy.cut()
        slowest = 0.0
        for _ in range(3):
            for path in PATHS:
                response, elapsed = _timed_get(client, path)
                slowest = max(slowest, elapsed)
                assert response.status_code == 503, (path, response.text)
                assert response.headers["content-type"] == PROBLEM
                assert response.json()["status"] == 503
                assert "Traceback" not in response.text
                assert elapsed < OUTAGE_BUDGET_S, (path, elapsed)
        print(f"slowest 503 during the outage: {slowest * 1000:.0f} ms")

        proxy.start()
        for path in PATHS:
            assert client.get(path).status_code == 200, path


def test_a_query_cut_mid_flight_is_503(proxied_url: tuple[str, TcpProxy]) -> None:
    url, proxy = proxied_url
    app = create_app(Settings(database_url=url, statement_timeout_s=30))

    @app.get("/test/slow")
    def slow(session: SessionDep) -> dict[str, str]:
        session.execute(text("SELECT pg_sleep(10)"))
        return {"status": "finished"}

    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200
        result: list[httpx.Response] = []
        request = threading.Thread(target=lambda: result.append(client.get("/test/slow")))
        request.start()
        time.sleep(0.5)
        cut_at = time.perf_counter()
        proxy.cut()
        request.join(timeout=10)
        assert result, "the request hung after the database went away"
        assert time.perf_counter() - cut_at < OUTAGE_BUDGET_S
        assert result[0].status_code == 503
        assert result[0].headers["content-type"] == PROBLEM

        proxy.start()
        assert client.get("/v1/models/deepseek-r1").status_code == 200


@pytest.mark.parametrize("idle_ping_s", [0.0, 3600.0])
def test_a_connection_idle_through_a_server_restart_is_replaced(
    seeded_url: str, backend: str, idle_ping_s: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server dropped every connection while the pool kept them: a connection idle
    longer than IDLE_PING_S is pinged and replaced before use, so the request succeeds;
    without the ping (a long idle limit) the request finds the dead connection."""
    if backend != "postgresql":
        pytest.skip("SQLite has no server to restart")
    monkeypatch.setattr(app_db, "IDLE_PING_S", idle_ping_s)
    app = create_app(Settings(database_url=seeded_url, response_cache_enabled=False))
    with TestClient(app) as client:
        assert client.get("/v1/models/deepseek-r1").status_code == 200
        database = make_url(seeded_url).database
        admin = create_engine(seeded_url, poolclass=NullPool)
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = :db AND pid <> pg_backend_pid()"
                ),
                {"db": database},
            )
        admin.dispose()
        time.sleep(0.2)
        status = client.get("/v1/models/deepseek-r1").status_code
        assert status == (200 if idle_ping_s == 0.0 else 503)
        assert client.get("/v1/models/deepseek-r1").status_code == 200


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _cli(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )


def test_sigterm_finishes_the_request_in_flight_and_exits_0(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shutdown.db'}",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_FORMAT": "json",
    }
    _cli(env, "migrate")
    _cli(env, "seed")
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)

        # A request whose body is still arriving is in flight when SIGTERM comes.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(
                b"GET /v1/models/deepseek-r1 HTTP/1.1\r\nHost: test\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"
            )
            time.sleep(0.3)
            server.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            assert server.poll() is None, "exited with a request in flight"
            conn.sendall(b"0\r\n\r\n")
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        assert b"671000000000" in answer

        assert server.wait(timeout=10) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert server.stderr is not None
    logged = [json.loads(line) for line in server.stderr.read().splitlines() if line.strip()]
    access = [e for e in logged if e["logger"] == "aifacts.access"]
    assert [e["route"] for e in access][-1] == "/v1/models/{id}"
    assert any(e["msg"] == "Shutting down" for e in logged)
