"""As-of indexes: the recorded states of each collection in each of its sort orders.

An `as_of` page (app/history/snapshot.py) walks the revisions of one collection in the
list's order and keeps each revision that is its item's latest at the instant (no later
revision of the same item recorded by then), so that it reads about one page of rows. Each
revision holds its item's state as JSON; these indexes order the revisions by a value of
that state, as the current lists' sort indexes (migration 0004) order the tables:

- `ix_revisions_as_of` `(entity_type, entity_id, id, recorded_at)`: whether a revision is
  its item's latest at an instant (an index-only probe), and the walk in id order;
- for each sortable field of each collection, partial indexes (`WHERE entity_type = ...`)
  `(value, entity_id)` and `(value DESC NULLS LAST, entity_id)`; they serve that field's
  filters too, as do the two on `parent_id` and `recipient_id` (selective references).

A value is the state's field as text (`->>`, in the database's collation, as the current
lists compare their columns) or, for the fields of integer columns, as numeric, on
PostgreSQL; `json_extract` on SQLite, which keeps JSON numbers numbers. SQLite's descending
index puts nulls last by itself. The queries (app/history/snapshot.py) and the metadata
(app/history/service.py) build the same expressions from one construct, `StateValue`.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 02:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# entity type -> its sortable fields (besides id): (field, whether a number)
SORTED: dict[str, tuple[tuple[str, bool], ...]] = {
    "organization": (("name", False), ("kind", False), ("country", False), ("city", False)),
    "model": (
        ("name", False),
        ("parameters", True),
        ("active_parameters", True),
        ("release_date", False),
        ("developer_id", False),
    ),
    "chip": (("name", False), ("vendor_id", False)),
    "chip_support": (
        ("model_id", False),
        ("chip_id", False),
        ("vendor_id", False),
        ("relation", False),
        ("announced_on", False),
    ),
    "investment": (
        ("name", False),
        ("amount_usd_min", True),
        ("amount_usd_max", True),
        ("announced_on", False),
    ),
    "document": (("title", False), ("language", False), ("published_on", False)),
}
# Filters on a field that is not sortable but picks few items: (entity type, field).
FILTERED = (("organization", "parent_id"), ("investment", "recipient_id"))


def _value(field: str, number: bool, dialect: str) -> str:
    if dialect != "postgresql":
        return f"json_extract(state, '$.{field}')"
    text = f"(state ->> '{field}')"
    return f"({text}::numeric)" if number else text


def _names() -> list[str]:
    names = ["ix_revisions_as_of"]
    for entity, fields in SORTED.items():
        for field, _ in fields:
            names += [f"ix_revisions_{entity}_{field}_id", f"ix_revisions_{entity}_{field}_desc"]
    names += [f"ix_revisions_{entity}_{field}_id" for entity, field in FILTERED]
    return names


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        # Building these on a large table takes longer than a request may (the app's
        # STATEMENT_TIMEOUT_S applies to migrations too).
        op.execute("SET LOCAL statement_timeout = 0")
    op.create_index(
        "ix_revisions_as_of", "revisions", ["entity_type", "entity_id", "id", "recorded_at"]
    )
    nulls = " NULLS LAST" if dialect == "postgresql" else ""
    indexes = [
        (entity, field, number, descending)
        for entity, fields in SORTED.items()
        for field, number in fields
        for descending in (False, True)
    ]
    indexes += [(entity, field, False, False) for entity, field in FILTERED]
    for entity, field, number, descending in indexes:
        value = _value(field, number, dialect)
        where = sa.text(f"entity_type = '{entity}'")
        op.create_index(
            f"ix_revisions_{entity}_{field}_{'desc' if descending else 'id'}",
            "revisions",
            [sa.text(f"{value} DESC{nulls}" if descending else value), "entity_id"],
            postgresql_where=where,
            sqlite_where=where,
        )


def downgrade() -> None:
    for name in reversed(_names()):
        op.drop_index(name, table_name="revisions")
