"""The schema is made only by Alembic, identically on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, event, inspect, text
from sqlalchemy.exc import IntegrityError

from app.config import Settings
from app.db import make_engine
from app.migrate import downgrade, upgrade
from app.models import metadata
from app.search.ddl import include_name, include_object
from tests.conftest import DatabaseFactory


def _context(conn: Connection) -> MigrationContext:
    # As migrations/env.py does: the search objects made by raw DDL are not in the metadata.
    opts = {"include_name": include_name, "include_object": include_object}
    return MigrationContext.configure(conn, opts=opts)


TABLES = {
    "documents",
    "organizations",
    "ai_models",
    "chips",
    "chip_support",
    "investments",
    "investment_participants",
    "citations",
    "search_names",
}


def test_migrations_match_the_table_classes(empty_engine: Engine) -> None:
    with empty_engine.connect() as conn:
        diff = compare_metadata(_context(conn), metadata)
    assert diff == []


def test_downgrade_to_base_then_upgrade_again(empty_engine: Engine) -> None:
    assert set(inspect(empty_engine).get_table_names()) >= TABLES
    downgrade(empty_engine, "base")
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}
    upgrade(empty_engine)
    assert set(inspect(empty_engine).get_table_names()) >= TABLES
    with empty_engine.connect() as conn:
        diff = compare_metadata(_context(conn), metadata)
    assert diff == []


def test_foreign_keys_are_enforced(empty_engine: Engine) -> None:
    insert = text(
        "INSERT INTO ai_models (id, name, aliases, developer_id, disputed, search_text)"
        " VALUES ('m', 'M', '[]', 'no-such-organization', false, 'm')"
    )
    with pytest.raises(IntegrityError), empty_engine.begin() as conn:
        conn.execute(insert)


def test_migrations_run_without_the_request_statement_timeout(
    databases: DatabaseFactory, backend: str
) -> None:
    """Requests stop after STATEMENT_TIMEOUT_S; an index build over a large table must not:
    every statement of a migration runs with the timeout off."""
    if backend != "postgresql":
        pytest.skip("statement timeouts are PostgreSQL's")
    engine = make_engine(Settings(database_url=databases.new_url(backend), statement_timeout_s=2))
    seen: set[str] = set()

    def timeout_in_force(conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("CREATE TABLE", "CREATE INDEX")):
            probe = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            probe.execute("SHOW statement_timeout")
            row = probe.fetchone()
            assert row is not None
            seen.add(row[0])
            probe.close()

    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar_one() == "2s"
        event.listen(engine, "before_cursor_execute", timeout_in_force)
        upgrade(engine)
        assert seen == {"0"}
    finally:
        engine.dispose()
