"""Search objects made by migrations 0002 and 0006 outside the table classes' metadata, and
the Alembic filters that keep autogenerate and `compare_metadata` from reporting them.

- PostgreSQL: the extension pg_trgm, a GIN trigram index on `search_names.grams` (0002) and
  B-trees of the names' keys by length, then key: of whole names and of later words (0006).
- SQLite: the FTS5 table `search_names_fts` (trigram tokenizer, contentless; its shadow
  tables are named `search_names_fts_*`) and the triggers that keep it in step.
"""

from __future__ import annotations

from typing import Any

FTS_TABLE = "search_names_fts"
TRIGRAM_INDEX = "ix_search_names_grams_trgm"
PREFIX_INDEX = "ix_search_names_prefix"
LATER_INDEX = "ix_search_names_later"
_INDEXES = {TRIGRAM_INDEX, PREFIX_INDEX, LATER_INDEX}


def _unmanaged(name: str | None, type_: str) -> bool:
    if name is None:
        return False
    if type_ == "table":
        return name == FTS_TABLE or name.startswith(FTS_TABLE + "_")
    return type_ == "index" and name in _INDEXES


def include_name(name: str | None, type_: str, _parent_names: Any) -> bool:
    """Alembic `include_name`: skip reflecting the search objects made by raw DDL."""
    return not _unmanaged(name, type_)


def include_object(
    _obj: Any, name: str | None, type_: str, _reflected: bool, _compare_to: Any
) -> bool:
    """Alembic `include_object`: the same filter, for objects already reflected."""
    return not _unmanaged(name, type_)
