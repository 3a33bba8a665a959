"""Citations are stored once for every kind of fact, keyed by (entity_type, entity_id)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Select, bindparam
from sqlmodel import Session, col, select

from app.filtering import in_params, in_size, in_values
from app.models import Citation


def citation_public(row: Citation | Row[Any]) -> dict[str, Any]:
    return {
        "document_id": row.document_id,
        "quote": row.quote,
        "start": row.start,
        "end": row.end,
        "field": row.field,
        "note": row.note,
        "stance": row.stance,
        "attributed_to": row.attributed_to,
    }


def load_citations(
    session: Session, entity_type: str, ids: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    """All citations of a page of items in one query, in their curated order."""
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if not ids:
        return found
    size = in_size(len(ids))
    statement = _OF_ITEMS.get(size)
    if statement is None:
        statement = _OF_ITEMS[size] = (
            select(*Citation.__table__.c)  # type: ignore[attr-defined]
            .where(
                col(Citation.entity_type) == bindparam("entity_type"),
                in_values(col(Citation.entity_id), "ids", len(ids)),
            )
            .order_by(col(Citation.entity_id), col(Citation.position))
        )
    params = {"entity_type": entity_type, **in_params("ids", ids)}
    for row in session.connection().execute(statement, params):
        found[row.entity_id].append(citation_public(row))
    return found


# One statement per count of ids (`in_size`), built on first use.
_OF_ITEMS: dict[int, Select[Any]] = {}


def attach_citations(session: Session, entity_type: str, items: list[dict[str, Any]]) -> None:
    """Embed each item's citations (a list page or a single item) with one query."""
    cited = load_citations(session, entity_type, [item["id"] for item in items])
    for item in items:
        item["citations"] = cited.get(item["id"], [])
