"""Search: the search_names table and each database's own index for it, filled from the data.

PostgreSQL: pg_trgm and a GIN trigram index on `grams` (the rows of whole names).
SQLite: a contentless FTS5 table with the trigram tokenizer, kept in step by triggers.
Existing organizations, models, chips, investments and documents get their rows here, so an
already-seeded database can search after `alembic upgrade head`.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 18:00:00.000000
"""

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

from app.search.ddl import FTS_TABLE, TRIGRAM_INDEX
from app.search.names import name_rows

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, entity type, name column, aliases column or None)
SOURCES = (
    ("organizations", "organization", "name", "aliases"),
    ("ai_models", "model", "name", "aliases"),
    ("chips", "chip", "name", "aliases"),
    ("investments", "investment", "name", None),
    ("documents", "document", "title", None),
)
BATCH = 1000

# The FTS row of a whole name is its `grams` between spaces, so that its first and last
# letters make trigrams too (" ab", "yz "), as pg_trgm's padding does.
_PADDED = "' ' || {row}.grams || ' '"
SQLITE_DDL = (
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(padded, tokenize='trigram', content='')",
    f"""CREATE TRIGGER {FTS_TABLE}_insert AFTER INSERT ON search_names WHEN new.word = 0
    BEGIN
        INSERT INTO {FTS_TABLE} (rowid, padded) VALUES (new.id, {_PADDED.format(row="new")});
    END""",
    f"""CREATE TRIGGER {FTS_TABLE}_delete AFTER DELETE ON search_names WHEN old.word = 0
    BEGIN
        INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, padded)
        VALUES ('delete', old.id, {_PADDED.format(row="old")});
    END""",
    f"""CREATE TRIGGER {FTS_TABLE}_update AFTER UPDATE ON search_names
    BEGIN
        INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, padded)
        SELECT 'delete', old.id, {_PADDED.format(row="old")} WHERE old.word = 0;
        INSERT INTO {FTS_TABLE} (rowid, padded)
        SELECT new.id, {_PADDED.format(row="new")} WHERE new.word = 0;
    END""",
)
SQLITE_DROP = (
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_update",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_delete",
    f"DROP TRIGGER IF EXISTS {FTS_TABLE}_insert",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
)


def _rows(connection: sa.Connection) -> Iterator[dict[str, Any]]:
    for table_name, entity_type, name_column, aliases_column in SOURCES:
        columns: list[sa.ColumnClause[Any]] = [sa.column("id"), sa.column(name_column)]
        if aliases_column:
            columns.append(sa.column(aliases_column, sa.JSON))
        source = sa.table(table_name, *columns)
        query = sa.select(*source.c).order_by(source.c.id)
        result = connection.execute(query.execution_options(yield_per=BATCH))
        for row in result:
            aliases = list(row[2] or []) if aliases_column else []
            yield from name_rows(entity_type, row[0], [row[1], *aliases])


def upgrade() -> None:
    connection = op.get_bind()
    dialect = connection.dialect.name
    key_type = sa.String(200).with_variant(sa.String(200, collation="C"), "postgresql")
    search_names = op.create_table(
        "search_names",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("entity_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("word", sa.Integer(), nullable=False),
        sa.Column("key", key_type, nullable=False),
        sa.Column("grams", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_names")),
    )
    assert search_names is not None
    with op.batch_alter_table("search_names", schema=None) as batch_op:
        batch_op.create_index("ix_search_names_entity", ["entity_type", "entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_search_names_key"), ["key"], unique=False)

    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            f"CREATE INDEX {TRIGRAM_INDEX} ON search_names"
            " USING gin (grams gin_trgm_ops) WHERE word = 0"
        )
    elif dialect == "sqlite":
        for statement in SQLITE_DDL:
            op.execute(statement)

    batch: list[dict[str, Any]] = []
    for row in _rows(connection):
        batch.append(row)
        if len(batch) >= BATCH:
            connection.execute(search_names.insert(), batch)
            batch = []
    if batch:
        connection.execute(search_names.insert(), batch)


def downgrade() -> None:
    # pg_trgm stays: it may have been there before, and other objects may use it.
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")
    elif dialect == "sqlite":
        for statement in SQLITE_DROP:
            op.execute(statement)
    with op.batch_alter_table("search_names", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_names_key"))
        batch_op.drop_index("ix_search_names_entity")
    op.drop_table("search_names")
