"""No deduplication in the B-trees whose keys are distinct, on PostgreSQL.

A B-tree deduplicates equal keys into one posting list. The sort indexes `(field, id)` and
`(field DESC NULLS LAST, id)` (migration 0004), the disputed and owner indexes (0004, 0009),
all ending in the row's id, never hold two equal keys; the as_of indexes `(value,
entity_id)` of the revisions' partitions (0011) only when one item has several revisions
with the same value. There deduplication merges nothing, but each build compares every entry
with the one before (7-9% of those builds' time at 1,000,000 models: the 1M models' ten
as_of indexes 22.3 s -> 20.8 s, their twelve sort, owner and disputed ones 19.0 s -> 17.4 s)
and each page split is preceded by an attempt to merge.

`deduplicate_items = off` on each: a B-tree, not unique, without INCLUDE columns, whose keys
hold `id` (the tables) or `entity_id` (the partitions of `revisions`), and not a partition's
part of a partitioned index (those follow their parent, which keeps deduplication). The
option changes how entries are added from then on; the indexes are not rebuilt.

SQLite does not deduplicate: nothing changes there.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 02:00:00.000000
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The indexes of the rule above, read from the catalog of the schema as of migration 0011.
DISTINCT_KEY_INDEXES = """
SELECT c.relname FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_am a ON a.oid = c.relam
WHERE t.relnamespace = 'public'::regnamespace AND a.amname = 'btree' AND c.relkind = 'i'
  AND NOT c.relispartition AND NOT i.indisunique AND i.indnkeyatts = i.indnatts
  AND EXISTS (
    SELECT 1 FROM unnest(i.indkey::int2[]) AS k(attnum)
    JOIN pg_attribute col ON col.attrelid = t.oid AND col.attnum = k.attnum
    WHERE col.attname = CASE WHEN t.relispartition
      AND t.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'revisions'::regclass)
      THEN 'entity_id' ELSE 'id' END
  )
ORDER BY c.relname
"""


def _set(option: str) -> None:
    bind = op.get_bind()
    for (name,) in bind.execute(text(DISTINCT_KEY_INDEXES)):
        op.execute(f'ALTER INDEX "{name}" {option}')


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _set("SET (deduplicate_items = off)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _set("RESET (deduplicate_items)")
