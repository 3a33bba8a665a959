"""Result rows as the dicts answers are made of."""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Row


def as_items(
    rows: Sequence[Row[Any]], fields: tuple[str, ...], *, prefix: str = ""
) -> list[dict[str, Any]]:
    """Each row as a dict of `fields` (the row's columns `prefix + field`), in that order.

    By position, not by name: a Row's attribute access costs about half a microsecond a
    field, a sixth of the CPU of a 20-model page read by name.
    """
    if not rows:
        return []
    names = rows[0]._fields
    if not prefix and names == fields:
        return [dict(zip(fields, row, strict=True)) for row in rows]
    take = itemgetter(*(names.index(prefix + name) for name in fields))
    if len(fields) == 1:
        return [{fields[0]: take(row)} for row in rows]
    return [dict(zip(fields, take(row), strict=True)) for row in rows]
