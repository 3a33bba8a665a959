"""The dataset version: a number that changes whenever the data may have changed.

Cached answers are keyed on it, so a write anywhere — this process, another worker, another
replica, the seed command — makes every process stop serving what it cached before:

- in this process at once: every committed transaction that wrote bumps `LOCAL_WRITES`;
- across processes on PostgreSQL: a writing transaction sends `NOTIFY aifacts_dataset`
  (delivered at commit) and each process LISTENs on a connection of its own;
- across processes on SQLite: each process polls `PRAGMA data_version`, which changes when
  another connection commits to the file.

While a watcher cannot see the database (the listening connection dropped, the file cannot be
read), the version is not trusted (`healthy` is false) and nothing is served from the cache.
"""

from __future__ import annotations

import itertools
import logging
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

import psycopg
from sqlalchemy import Engine, event
from sqlalchemy.engine import Connection

log = logging.getLogger("aifacts.cache")

CHANNEL = "aifacts_dataset"
_WROTE = "aifacts_wrote"
_READ_ONLY = ("SELECT", "WITH", "PRAGMA", "SHOW", "SET", "EXPLAIN", "SAVEPOINT", "RELEASE")


class _LocalWrites:
    """Commits that wrote, in this process (shared by every engine: tests run many apps)."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self.value = 0

    def bump(self) -> None:
        self.value = next(self._counter)


LOCAL_WRITES = _LocalWrites()


def _is_write(statement: str, context: Any) -> bool:
    if context is not None and (context.isinsert or context.isupdate or context.isdelete):
        return True
    return not statement.lstrip()[:9].upper().startswith(_READ_ONLY)


def install_write_hooks(engine: Engine) -> None:
    """Mark transactions that write; announce them when they commit."""
    if getattr(engine, "_aifacts_write_hooks", False):
        return
    engine._aifacts_write_hooks = True  # type: ignore[attr-defined]
    postgres = engine.dialect.name == "postgresql"

    @event.listens_for(engine, "after_cursor_execute")
    def _after_execute(
        conn: Connection,
        cursor: Any,
        statement: str,
        _parameters: Any,
        context: Any,
        _executemany: bool,
    ) -> None:
        if conn.info.get(_WROTE) or not _is_write(statement, context):
            return
        conn.info[_WROTE] = True
        if postgres:
            # Transactional: sent to the listeners only if and when this transaction commits.
            cursor.connection.execute(f"NOTIFY {CHANNEL}")

    @event.listens_for(engine, "commit")
    def _on_commit(conn: Connection) -> None:
        if conn.info.pop(_WROTE, False):
            LOCAL_WRITES.bump()

    # Reset when a transaction begins, not on rollback: with a rollback listener, a request
    # whose connection the network cut hung instead of failing (tests/test_ops_outage.py).
    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.info.pop(_WROTE, None)


class DatasetVersion:
    """What a cached answer is keyed on; `None` while the database cannot be watched."""

    def __init__(self, poll_interval_s: float = 0.25) -> None:
        self.poll_interval_s = poll_interval_s
        self._remote = 0
        self.healthy = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def current(self) -> tuple[int, int] | None:
        if not self.healthy:
            return None
        return (self._remote, LOCAL_WRITES.value)

    def _bump(self) -> None:
        self._remote += 1

    def start(self, engine: Engine) -> None:
        url = engine.url
        if url.get_backend_name() == "postgresql":
            target: Callable[[str], None] = self._listen
            args: tuple[Any, ...] = (
                url.set(drivername="postgresql").render_as_string(hide_password=False),
            )
        elif url.database in (None, "", ":memory:"):
            # One process owns an in-memory database: its own commits are all there is.
            self.healthy = True
            return
        else:
            target = self._poll_sqlite
            args = (url.database,)
        self._stop.clear()
        self._thread = threading.Thread(
            target=target, args=args, name="dataset-version", daemon=True
        )
        self._thread.start()
        # The first answers may wait a moment for the watcher rather than skip the cache.
        for _ in range(20):
            if self.healthy or not self._thread.is_alive():
                break
            self._stop.wait(0.05)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.healthy = False

    def _unhealthy(self, exc: Exception) -> None:
        if self.healthy:
            log.warning("dataset version not watched, response cache bypassed: %s", exc)
        self.healthy = False
        self._bump()

    def _poll_sqlite(self, path: str) -> None:
        conn: sqlite3.Connection | None = None
        last: int | None = None
        while not self._stop.is_set():
            try:
                if conn is None:
                    conn = sqlite3.connect(path, timeout=1, check_same_thread=False)
                (version,) = conn.execute("PRAGMA data_version").fetchone()
                if version != last:
                    last = version
                    self._bump()
                self.healthy = True
            except sqlite3.Error as exc:
                self._unhealthy(exc)
                if conn is not None:
                    conn.close()
                conn = None
                last = None
            self._stop.wait(self.poll_interval_s)
        if conn is not None:
            conn.close()

    def _listen(self, conninfo: str) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    conninfo, autocommit=True, connect_timeout=2, tcp_user_timeout=1000
                ) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    # Whatever was written while nobody listened is unknown: start afresh.
                    self._bump()
                    self.healthy = True
                    checks = 0
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=self.poll_interval_s):
                            self._bump()
                        checks += 1
                        if checks % 20 == 0:
                            # A dead peer sends nothing: ask now and then.
                            conn.execute("SELECT 1")
            except psycopg.Error as exc:
                self._unhealthy(exc)
                self._stop.wait(1.0)
