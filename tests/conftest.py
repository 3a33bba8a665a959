"""Every test runs against a database made by the migrations: SQLite always, and PostgreSQL
when TEST_DATABASE_URL is set (each run creates and drops its own database there)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app.config import Settings, normalize_database_url
from app.db import make_engine
from app.main import create_app
from app.migrate import upgrade
from app.seeding.loader import load_seed, read_seed

PG_ADMIN_URL = os.environ.get("TEST_DATABASE_URL")
if os.environ.get("CI") == "true" and not PG_ADMIN_URL:
    raise pytest.UsageError("CI=true needs TEST_DATABASE_URL: PostgreSQL tests may not be skipped")

BACKENDS = ["sqlite", "postgresql"] if PG_ADMIN_URL else ["sqlite"]


class DatabaseFactory:
    """Makes empty databases for one test run and drops them all at the end."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.created: list[str] = []

    def new_url(self, backend: str, *, options: str = "") -> str:
        """A new empty database; on PostgreSQL, `options` of its CREATE DATABASE."""
        name = f"aifacts_test_{uuid.uuid4().hex[:12]}"
        if backend == "sqlite":
            return f"sqlite:///{self.tmp / name}.db"
        assert PG_ADMIN_URL
        admin = create_engine(normalize_database_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" {options}'))
        admin.dispose()
        self.created.append(name)
        url = make_url(normalize_database_url(PG_ADMIN_URL)).set(database=name)
        return url.render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.created:
            return
        assert PG_ADMIN_URL
        admin = create_engine(normalize_database_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def read_engines(client: TestClient) -> list[Engine]:
    """The engines a client's app reads through: its blocking pool and, on PostgreSQL, the
    event loop's own."""
    state = client.app.state  # type: ignore[attr-defined]
    return [state.read_engine, *([state.loop_engine] if state.loop_engine else [])]


@contextmanager
def statements_sent(*engines: Engine) -> Iterator[list[str]]:
    """The SQL of every statement sent through `engines` meanwhile (for a client's reads:
    `read_engines(client)`)."""
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(str(args[2]))

    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("db"))
    yield factory
    factory.drop_all()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def migrated_engine(databases: DatabaseFactory, backend: str) -> Engine:
    engine = make_engine(Settings(database_url=databases.new_url(backend)))
    upgrade(engine)
    return engine


@pytest.fixture
def empty_engine(databases: DatabaseFactory, backend: str) -> Iterator[Engine]:
    """A freshly migrated, empty database of its own (for tests that write)."""
    engine = migrated_engine(databases, backend)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def seeded_url(databases: DatabaseFactory, backend: str) -> str:
    """One migrated and seeded database per backend, shared by the read-only tests."""
    engine = migrated_engine(databases, backend)
    with Session(engine) as session:
        load_seed(session, read_seed())
        session.commit()
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def client(seeded_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=seeded_url))) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def uncached(seeded_url: str) -> Iterator[TestClient]:
    """A client of the seeded database without the response cache: every request is read."""
    settings = Settings(database_url=seeded_url, response_cache_enabled=False)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def engine(databases: DatabaseFactory, backend: str) -> Iterator[Engine]:
    """A seeded database of a test module's own (for tests that write)."""
    from tests.curation_support import seeded_engine  # it imports this module

    engine = seeded_engine(databases, backend)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def api(engine: Engine) -> Iterator[TestClient]:
    """A client of the module's own seeded database."""
    from tests.curation_support import client_for  # it imports this module

    with client_for(engine) as test_client:
        yield test_client
