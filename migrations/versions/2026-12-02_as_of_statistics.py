"""As-of statistics: PostgreSQL's statistics of the state values the as_of indexes hold.

PostgreSQL keeps no statistics of a partial index's expressions (migration 0005's indexes
are all partial), so it would guess that any condition on a state's value keeps 0.5% of the
rows: it then sorts every match of a common value rather than read the list's order until a
page is full, and walks a whole collection for a rare value rather than read its index. An
extended statistics object on each expression (PostgreSQL 14 and later) gives it the values'
frequencies and histograms across the revisions, so that it chooses, value by value, between
the sort's index and the filter's (app/history/snapshot.py). Filled by ANALYZE, here at once
and by autovacuum afterwards.

SQLite has nothing of the kind: app/history/snapshot.py counts a filter's rows itself.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 14:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The fields of migration 0005's indexes, each with whether it holds numbers.
FIELDS = (
    ("name", False),
    ("kind", False),
    ("country", False),
    ("city", False),
    ("parent_id", False),
    ("parameters", True),
    ("active_parameters", True),
    ("release_date", False),
    ("developer_id", False),
    ("vendor_id", False),
    ("model_id", False),
    ("chip_id", False),
    ("relation", False),
    ("announced_on", False),
    ("amount_usd_min", True),
    ("amount_usd_max", True),
    ("recipient_id", False),
    ("title", False),
    ("language", False),
    ("published_on", False),
)


def _value(field: str, number: bool) -> str:
    # As app/history/service.py's StateValue writes it on PostgreSQL.
    text = f"(state ->> '{field}')"
    return f"({text}::numeric)" if number else text


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # ANALYZE of a large table takes longer than a request may (STATEMENT_TIMEOUT_S).
    op.execute("SET LOCAL statement_timeout = 0")
    for field, number in FIELDS:
        op.execute(
            f"CREATE STATISTICS st_revisions_{field} ON ({_value(field, number)}) FROM revisions"
        )
    op.execute("ANALYZE revisions")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for field, _ in reversed(FIELDS):
        op.execute(f"DROP STATISTICS st_revisions_{field}")
