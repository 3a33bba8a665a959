"""The Alembic filters of autogenerate and `compare_metadata`: the objects the migrations
make outside the table classes' metadata are not reported as missing from it.

- The search objects made by raw DDL (app/search/ddl.py).
- PostgreSQL: the partitions of `revisions` and their as_of indexes (migration 0011), which
  the metadata has as partial indexes of `revisions`, as SQLite has them.
"""

from __future__ import annotations

from typing import Any

from app.history.service import PARTITIONS, as_of_index_entities
from app.search.ddl import unmanaged

_PARTITIONS = frozenset(PARTITIONS.values())
_PARTITIONED_INDEXES = frozenset(as_of_index_entities())


def alembic_filters(dialect: str) -> dict[str, Any]:
    """`include_name` and `include_object` for a database of `dialect`."""

    def include_name(name: str | None, type_: str, _parent_names: Any) -> bool:
        return not unmanaged(name, type_) and not (type_ == "table" and name in _PARTITIONS)

    def include_object(
        _obj: Any, name: str | None, type_: str, reflected: bool, _compare_to: Any
    ) -> bool:
        if unmanaged(name, type_):
            return False
        # The metadata's partial as_of indexes are the partitions' own on PostgreSQL.
        partitioned = dialect == "postgresql" and type_ == "index" and not reflected
        return not (partitioned and name in _PARTITIONED_INDEXES)

    return {"include_name": include_name, "include_object": include_object}
