"""The schema is made only by Alembic, identically on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, event, inspect, text
from sqlalchemy.exc import IntegrityError

from app.config import Settings
from app.db import make_engine
from app.history.service import PARTITIONS, as_of_index_entities
from app.main import create_app
from app.migrate import downgrade, upgrade
from app.models import metadata
from app.schema import alembic_filters
from tests.conftest import DatabaseFactory


def _context(conn: Connection) -> MigrationContext:
    # As migrations/env.py does: objects made by raw DDL are not in the metadata.
    return MigrationContext.configure(conn, opts=alembic_filters(conn.dialect.name))


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


def test_sorted_text_is_bytewise_on_postgresql(empty_engine: Engine) -> None:
    """Ids, references and sorted fields compare by code point whatever the database's
    collation (migration 0010): each column the table classes collate "C" is so in the
    database, as is the value of each as_of index on a text field, which neither
    compare_metadata nor reflection sees; the as_of indexes on numbers read bigints. On
    PostgreSQL the as_of indexes are the partitions' of `revisions`, one entity type each."""
    if empty_engine.dialect.name != "postgresql":
        pytest.skip("SQLite compares text bytewise by itself")
    wanted = {
        (table.name, column.name)
        for table in metadata.tables.values()
        for column in table.columns
        if getattr(column.type.dialect_impl(empty_engine.dialect), "collation", None) == "C"
    }
    assert ("ai_models", "name") in wanted
    assert ("revisions", "entity_id") in wanted
    entities = as_of_index_entities()
    with empty_engine.connect() as conn:
        collated = {
            (str(table), str(column))
            for table, column in conn.execute(
                text(
                    "SELECT c.relname, a.attname FROM pg_attribute a"
                    " JOIN pg_class c ON c.oid = a.attrelid"
                    " JOIN pg_collation k ON k.oid = a.attcollation"
                    " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')"
                    " AND NOT c.relispartition"
                    " AND k.collname = 'C'"
                )
            )
        }
        as_of = {
            str(name): (str(value), str(collation))
            for name, value, collation, table, predicate in conn.execute(
                text(
                    "SELECT c.relname, pg_get_indexdef(i.indexrelid, 1, true),"
                    " coalesce(k.collname, '-'), i.indrelid::regclass::text,"
                    " i.indpred IS NOT NULL FROM pg_index i"
                    " JOIN pg_class c ON c.oid = i.indexrelid"
                    " JOIN pg_inherits p ON p.inhrelid = i.indrelid"
                    " LEFT JOIN pg_collation k ON k.oid = i.indcollation[0]"
                    " WHERE p.inhparent = 'revisions'::regclass AND c.relname ~ '_(id|desc)$'"
                    " AND NOT c.relispartition"
                )
            )
            # Each on its entity type's partition (migration 0011), which needs no predicate.
            if str(table) == PARTITIONS.get(entities.get(str(name), "")) and not predicate
        }
    assert collated == wanted
    numbers = {name for name, (value, _) in as_of.items() if "::bigint" in value}
    assert len(numbers) == 8  # parameters, active_parameters, amount_usd_min/max, both ways
    assert len(as_of) == 48
    assert set(as_of) == set(entities)
    assert {as_of[name][1] for name in as_of.keys() - numbers} == {"C"}, as_of


def test_distinct_key_indexes_do_not_deduplicate_on_postgresql(empty_engine: Engine) -> None:
    """The indexes the table classes declare without deduplication are exactly those the
    migrations made so (0012), which compare_metadata does not check: every sort, owner,
    disputed and as_of index, and no other (an index with equal keys keeps it)."""
    if empty_engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no deduplication")
    declared = {
        str(index.name)
        for table in metadata.tables.values()
        for index in table.indexes
        if index.dialect_options["postgresql"]["with"] == {"deduplicate_items": "off"}
    }
    with empty_engine.connect() as conn:
        options = {
            str(name): list(reloptions or [])
            for name, reloptions in conn.execute(
                text(
                    "SELECT c.relname, c.reloptions FROM pg_class c"
                    " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('i', 'I')"
                )
            )
        }
    made = {name for name, values in options.items() if "deduplicate_items=off" in values}
    assert made == declared
    assert len(made) == 101  # 46 sort, 5 disputed and 2 owner indexes, 48 as_of ones
    assert {"ix_ai_models_name_desc", "ix_revisions_model_parameters_id"} <= made
    assert {"ix_search_names_key", "ix_citations_entity", "ix_revisions_entity"}.isdisjoint(made)
    # Nothing else sets a storage option of an index.
    assert {name for name, values in options.items() if values} == made


def test_names_sort_by_code_point_in_a_database_of_another_locale(
    databases: DatabaseFactory, backend: str
) -> None:
    """A database whose own collation is linguistic (ICU's en-US: `alpha` before `Beta`)
    still serves `sort=name` in code point order, as SQLite does."""
    if backend != "postgresql":
        pytest.skip("SQLite has one collation")
    icu = "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
    engine = make_engine(Settings(database_url=databases.new_url(backend, options=icu)))
    names = ["Zeta", "alpha", "Éclair", "eclair", "Beta", "zeta"]
    try:
        upgrade(engine)
        with engine.begin() as conn:
            linguistic = conn.execute(
                text("SELECT array_agg(n ORDER BY n) FROM unnest(CAST(:names AS text[])) n"),
                {"names": names},
            ).scalar_one()
            assert linguistic != sorted(names)  # the database's own order is another
            for number, name in enumerate(names):
                conn.execute(
                    text(
                        "INSERT INTO organizations (id, name, aliases, kind, disputed,"
                        " search_text) VALUES (:id, :name, '[]', 'lab', false, '')"
                    ),
                    {"id": f"org-{number}", "name": name},
                )
        settings = Settings(
            database_url=engine.url.render_as_string(hide_password=False),
            response_cache_enabled=False,
        )
        with TestClient(create_app(settings)) as client:
            ascending = client.get("/v1/organizations", params={"sort": "name"}).json()
            descending = client.get("/v1/organizations", params={"sort": "-name"}).json()
    finally:
        engine.dispose()
    assert [o["name"] for o in ascending["data"]] == sorted(names)
    assert [o["name"] for o in descending["data"]] == sorted(names, reverse=True)


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
