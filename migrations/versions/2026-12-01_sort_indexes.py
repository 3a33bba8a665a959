"""Sort indexes: every sort field of every collection, in both directions, ties by id.

A list is ordered by its sort field (nulls last either way), then by id ascending, and pages
by keyset (app/listing.py). Each sortable field gets two indexes, `(field, id)` and
`(field DESC NULLS LAST, id)`, so that both directions read a page, at any depth, straight
from an index. They replace the single-column indexes on those fields (an index starting
with the field serves its filters as well). Partial indexes on `disputed` serve that rare
filter in the collection's default order.

SQLite has no NULLS LAST in index definitions; its descending index already puts nulls
last (they sort first ascending), which is the same order.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> its sortable fields (besides id), and whether each may be null
SORTED: dict[str, tuple[tuple[str, bool], ...]] = {
    "organizations": (("name", False), ("kind", False), ("country", True), ("city", True)),
    "ai_models": (
        ("name", False),
        ("parameters", True),
        ("active_parameters", True),
        ("release_date", True),
        ("developer_id", True),
    ),
    "chips": (("name", False), ("vendor_id", True)),
    "chip_support": (
        ("model_id", False),
        ("chip_id", True),
        ("vendor_id", True),
        ("relation", False),
        ("announced_on", True),
    ),
    "investments": (
        ("name", False),
        ("amount_usd_min", True),
        ("amount_usd_max", True),
        ("announced_on", True),
    ),
    "documents": (("title", False), ("language", False), ("published_on", True)),
}
# The single-column indexes the sort indexes replace: (table, column).
REPLACED = (
    ("organizations", "name"),
    ("organizations", "kind"),
    ("organizations", "country"),
    ("ai_models", "name"),
    ("ai_models", "parameters"),
    ("ai_models", "release_date"),
    ("ai_models", "developer_id"),
    ("chips", "name"),
    ("chips", "vendor_id"),
    ("chip_support", "model_id"),
    ("chip_support", "chip_id"),
    ("chip_support", "vendor_id"),
    ("chip_support", "relation"),
    ("chip_support", "announced_on"),
    ("investments", "name"),
    ("investments", "amount_usd_min"),
    ("investments", "announced_on"),
    ("documents", "language"),
)
# Partial indexes for `disputed=true` (about one item in a hundred): (table, default order).
DISPUTED = (
    ("organizations", "name"),
    ("ai_models", "name"),
    ("chips", "name"),
    ("chip_support", "id"),
    ("investments", "id"),
)


def _descending(column: str, nullable: bool, dialect: str) -> sa.TextClause:
    nulls = " NULLS LAST" if nullable and dialect == "postgresql" else ""
    return sa.text(f"{column} DESC{nulls}")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table, column in REPLACED:
        op.drop_index(f"ix_{table}_{column}", table_name=table)
    for table, fields in SORTED.items():
        for column, nullable in fields:
            op.create_index(f"ix_{table}_{column}_id", table, [column, "id"])
            op.create_index(
                f"ix_{table}_{column}_desc", table, [_descending(column, nullable, dialect), "id"]
            )
    for table, column in DISPUTED:
        columns = [column] if column == "id" else [column, "id"]
        op.create_index(
            f"ix_{table}_disputed_{column}",
            table,
            columns,
            postgresql_where=sa.text("disputed"),
            sqlite_where=sa.text("disputed"),
        )


def downgrade() -> None:
    for table, column in DISPUTED:
        op.drop_index(f"ix_{table}_disputed_{column}", table_name=table)
    for table, fields in SORTED.items():
        for column, _ in fields:
            op.drop_index(f"ix_{table}_{column}_desc", table_name=table)
            op.drop_index(f"ix_{table}_{column}_id", table_name=table)
    for table, column in REPLACED:
        op.create_index(f"ix_{table}_{column}", table, [column])
