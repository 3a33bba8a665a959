"""Search objects made by migrations 0002 and 0006 outside the table classes' metadata, and
which app/schema.py's Alembic filters keep autogenerate and `compare_metadata` from reporting.

- PostgreSQL: the extension pg_trgm, a GIN trigram index on `search_names.grams` (0002) and
  B-trees of the names' keys by length, then key: of whole names and of later words (0006).
- SQLite: the FTS5 table `search_names_fts` (trigram tokenizer, contentless; its shadow
  tables are named `search_names_fts_*`) and the triggers that keep it in step.
"""

from __future__ import annotations

FTS_TABLE = "search_names_fts"
TRIGRAM_INDEX = "ix_search_names_grams_trgm"
PREFIX_INDEX = "ix_search_names_prefix"
LATER_INDEX = "ix_search_names_later"
_INDEXES = {TRIGRAM_INDEX, PREFIX_INDEX, LATER_INDEX}


def unmanaged(name: str | None, type_: str) -> bool:
    """Whether an object of the database, by name and Alembic type, is one of these."""
    if name is None:
        return False
    if type_ == "table":
        return name == FTS_TABLE or name.startswith(FTS_TABLE + "_")
    return type_ == "index" and name in _INDEXES
