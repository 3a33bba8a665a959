"""Citations are stored once for every kind of fact, keyed by (entity_type, entity_id)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Select, bindparam
from sqlmodel import Session, col, select

from app.filtering import SizedStatements, in_params, in_values
from app.models import Citation
from app.reads import read_rows
from app.rows import as_items

FIELDS = ("document_id", "quote", "start", "end", "field", "note", "stance", "attributed_to")


_CITED = "cited_"


def with_citations(
    session: Session, columns: Sequence[Any], entity_type: str, item_id: str
) -> tuple[Row[Any] | None, list[dict[str, Any]]]:
    """One item's `columns` (of its table) and its citations, in their curated order, in one
    statement (one round trip); (None, []) if there is no such item."""
    statement = _WITH_CITATIONS.get(tuple(columns))
    if statement is None:
        statement = _WITH_CITATIONS[tuple(columns)] = _with_citations(columns)
    found = read_rows(session, statement, {"id": item_id, "entity_type": entity_type})
    if not found:
        return None, []
    cited = as_items([r for r in found if r.cited_document_id is not None], FIELDS, prefix=_CITED)
    return found[0], cited


def _with_citations(columns: Sequence[Any]) -> Select[Any]:
    table = columns[0].table
    citations = Citation.__table__  # type: ignore[attr-defined]
    joined = table.outerjoin(
        citations,
        (citations.c.entity_type == bindparam("entity_type"))
        & (citations.c.entity_id == table.c.id),
    )
    cited = [citations.c[name].label(_CITED + name) for name in FIELDS]
    statement: Select[Any] = (
        select(*columns, *cited)
        .select_from(joined)
        .where(table.c.id == bindparam("id"))
        .order_by(citations.c.position)
    )
    return statement


_WITH_CITATIONS: dict[tuple[Any, ...], Select[Any]] = {}


def load_citations(
    session: Session, entity_type: str, ids: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    """All citations of a page of items in one query, in their curated order."""
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if not ids:
        return found
    params = {"entity_type": entity_type, **in_params("ids", ids)}
    rows = read_rows(session, _OF_ITEMS(len(ids)), params)
    for row, item in zip(rows, as_items(rows, FIELDS), strict=True):
        found[row.entity_id].append(item)
    return found


_OF_ITEMS = SizedStatements(
    lambda count: (
        select(*Citation.__table__.c)  # type: ignore[attr-defined]
        .where(
            col(Citation.entity_type) == bindparam("entity_type"),
            in_values(col(Citation.entity_id), "ids", count),
        )
        .order_by(col(Citation.entity_id), col(Citation.position))
    )
)


def attach_citations(session: Session, entity_type: str, items: list[dict[str, Any]]) -> None:
    """Embed each item's citations (a list page or a single item) with one query."""
    cited = load_citations(session, entity_type, [item["id"] for item in items])
    for item in items:
        item["citations"] = cited.get(item["id"], [])
