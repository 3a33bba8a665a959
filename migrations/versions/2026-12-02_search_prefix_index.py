"""Search prefix indexes: the names' word keys by length, type and key, with what a hit needs.

A search reads the names with a word key starting with the query shortest first
(app/search/service.py): for each key length from the query's on and each type asked for,
the range of keys of that length and type starting with the query, under the page's LIMIT,
so that a broad prefix reads one page of index entries and a rare one one index probe per
length and type, never every name starting with it. On PostgreSQL:

- `ix_search_names_prefix` on the whole names (`word = 0`: exact and prefix matches) and
  `ix_search_names_later` on the keys from a later word on (`word > 0`), both
  `(length(key), entity_type, key, entity_id)`, byte-wise like `key`, including `name` and
  `is_primary`: each range is read in order from the index alone.

SQLite has nothing to add: it reads the key range (`ix_search_names_key`) and sorts it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 12:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

from app.search.ddl import LATER_INDEX, PREFIX_INDEX

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# index name -> the rows it holds
INDEXES = {PREFIX_INDEX: "word = 0", LATER_INDEX: "word > 0"}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, rows in INDEXES.items():
        op.execute(
            f"CREATE INDEX {name} ON search_names"
            ' (length(key), entity_type, key, entity_id COLLATE "C")'
            f" INCLUDE (name, is_primary) WHERE {rows}"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
