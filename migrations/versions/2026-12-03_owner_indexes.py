"""Owner indexes: a developer's models and a vendor's chips in their default order (name).

`GET /v1/models?developer_id=X` is ordered by name, then id. With only the sort's index
`(name, id)` and the filter's `(developer_id, id)`, PostgreSQL reads a large developer's models
from the first by filtering the name index (at 1,000,000 models, the largest developer's first
page read 156 index entries and 160 buffers for its 21 rows, 1 ms) or reads all of a small
one's and sorts them. `(developer_id, name, id)` gives the page's rows in order, and the next
page's after its cursor, from one index range. The same for chips by vendor.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 12:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, owner column, default order)
OWNED = (("ai_models", "developer_id", "name"), ("chips", "vendor_id", "name"))


def upgrade() -> None:
    for table, owner, order in OWNED:
        op.create_index(f"ix_{table}_{owner}_{order}", table, [owner, order, "id"])


def downgrade() -> None:
    for table, owner, order in OWNED:
        op.drop_index(f"ix_{table}_{owner}_{order}", table_name=table)
