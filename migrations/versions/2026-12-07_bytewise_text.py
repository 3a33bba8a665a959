"""Bytewise text: ids, names and the other sorted or joined text compared by code point;
the as_of indexes on numbers read bigints.

PostgreSQL compared these columns in the database's collation, SQLite by bytes: the same
`sort=name` could order two databases differently (`Zeta` before or after `alpha`), and an
index built under one C library's collation rules can silently misorder after an upgrade of
the operating system changes them. Collated "C", a comparison is a `memcmp` on every machine,
as on SQLite (UTF-8's byte order is code point order), and the same wherever the database
runs; sorting with it uses abbreviated keys, where the C library's collations compare each
pair in full (building `(developer_id, id)` over 1,000,000 models: 4.5 s -> 3.1 s; the
revisions' `(state ->> 'name', entity_id)` 5.0 s -> 2.5 s).

- The columns: every id and reference, the sorted and filtered text fields, and the
  `entity_type`/`entity_id` pairs of citations, search names and revisions.
- The as_of indexes on a text value of a state (migration 0005) order it `COLLATE "C"`, as
  the queries do (app/history/service.py, `StateValue`); those on a number read it as
  `bigint`, not `numeric` (the columns it comes from are bigint; a build over the 1,000,000
  models' revisions 5.0-6.0 s -> 3.7 s), as do the statistics of migration 0007.
- `(entity_type, entity_id, ...)` indexes that serve only lookups of one item (equality on
  both) lead with `entity_id`: sorting by a column of six values first, the build compared
  nearly every pair on both columns in full (search names: 19.0 s -> 6.3 s at 4.8 million
  rows). `ix_revisions_as_of` keeps its order: it walks one collection in id order.

SQLite already compares bytes and keeps JSON numbers numbers: only the three lookup indexes
change there.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 15:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = "varchar(100)"
TEXT = "varchar"
# table -> its text columns compared bytewise, with their types
BYTEWISE: dict[str, tuple[tuple[str, str], ...]] = {
    "documents": (("id", ID), ("title", TEXT), ("language", "varchar(8)")),
    "organizations": (
        ("id", ID),
        ("name", TEXT),
        ("kind", "varchar(32)"),
        ("country", "varchar(2)"),
        ("city", TEXT),
        ("parent_id", ID),
    ),
    "ai_models": (("id", ID), ("name", TEXT), ("developer_id", ID)),
    "chips": (("id", ID), ("name", TEXT), ("vendor_id", ID)),
    "chip_support": (
        ("id", ID),
        ("model_id", ID),
        ("chip_id", ID),
        ("vendor_id", ID),
        ("relation", "varchar(32)"),
    ),
    "investments": (
        ("id", ID),
        ("name", TEXT),
        ("kind", "varchar(32)"),
        ("recipient_id", ID),
        ("status", "varchar(32)"),
    ),
    "investment_participants": (("investment_id", ID), ("organization_id", ID)),
    "citations": (("entity_type", "varchar(32)"), ("entity_id", ID), ("document_id", ID)),
    "search_names": (("entity_type", "varchar(32)"), ("entity_id", ID)),
    "revisions": (("entity_type", "varchar(32)"), ("entity_id", ID)),
}
# (index, table, its columns before this migration)
LOOKUPS = (
    ("ix_citations_entity", "citations", ["entity_type", "entity_id", "position"]),
    ("ix_search_names_entity", "search_names", ["entity_type", "entity_id"]),
    ("ix_revisions_entity", "revisions", ["entity_type", "entity_id", "revision"]),
)
# The as_of indexes of migration 0005 but `ix_revisions_as_of`: entity type -> fields, each
# with whether it holds numbers, all with `_desc` twins but the filtered fields.
AS_OF: dict[str, tuple[tuple[str, bool], ...]] = {
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
AS_OF_FILTERED = (("organization", "parent_id"), ("investment", "recipient_id"))
# Migration 0007's statistics on the number values (those on text values stay as they are:
# the planner looks through a COLLATE to the expression).
NUMBERS = tuple(dict.fromkeys(f for fields in AS_OF.values() for f, number in fields if number))


def _as_of_indexes() -> list[tuple[str, str, str, bool, bool]]:
    """(index name, entity type, field, whether a number, descending) for each."""
    found = [
        (f"ix_revisions_{e}_{f}_{'desc' if descending else 'id'}", e, f, number, descending)
        for e, fields in AS_OF.items()
        for f, number in fields
        for descending in (False, True)
    ]
    return found + [(f"ix_revisions_{e}_{f}_id", e, f, False, False) for e, f in AS_OF_FILTERED]


def _value(field: str, number: bool, collation: str, integer: str) -> str:
    # As app/history/service.py's StateValue writes it on PostgreSQL.
    return f"((state ->> '{field}')::{integer})" if number else f"(state ->> '{field}'){collation}"


def _as_of(collation: str, integer: str) -> None:
    for name, entity, field, number, descending in _as_of_indexes():
        order = " DESC NULLS LAST" if descending else ""
        op.execute(
            f"CREATE INDEX {name} ON revisions (({_value(field, number, collation, integer)})"
            f"{order}, entity_id) WHERE entity_type = '{entity}'"
        )
    for field in NUMBERS:
        op.execute(
            f"CREATE STATISTICS st_revisions_{field}"
            f" ON ({_value(field, True, collation, integer)}) FROM revisions"
        )


def _collate(collation: str) -> None:
    for table, columns in BYTEWISE.items():
        changes = ", ".join(f"ALTER COLUMN {c} TYPE {t}{collation}" for c, t in columns)
        op.execute(f"ALTER TABLE {table} {changes}")


def _change(collation: str, integer: str, *, leading_id: bool) -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        # On a large table these take longer than a request may (STATEMENT_TIMEOUT_S).
        op.execute("SET LOCAL statement_timeout = 0")
        # Dropped first: altering the columns would rebuild them once for nothing.
        for name, *_ in _as_of_indexes():
            op.drop_index(name, table_name="revisions")
        for field in NUMBERS:
            op.execute(f"DROP STATISTICS st_revisions_{field}")
    for name, table, _ in LOOKUPS:
        op.drop_index(name, table_name=table)
    if postgresql:
        _collate(collation)
        _as_of(collation, integer)
    for name, table, columns in LOOKUPS:
        ordered = [columns[1], columns[0], *columns[2:]] if leading_id else columns
        op.create_index(name, table, ordered)
    if postgresql:
        op.execute("ANALYZE revisions")  # fills the new statistics


def upgrade() -> None:
    _change(' COLLATE "C"', "bigint", leading_id=True)


def downgrade() -> None:
    _change(' COLLATE "default"', "numeric", leading_id=False)
