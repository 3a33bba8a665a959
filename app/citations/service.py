"""Citations are stored once for every kind of fact, keyed by (entity_type, entity_id)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, bindparam
from sqlmodel import Session, col, select

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
    rows = session.connection().execute(_OF_ITEMS, {"entity_type": entity_type, "ids": ids})
    for row in rows:
        found[row.entity_id].append(citation_public(row))
    return found


_OF_ITEMS = (
    select(*Citation.__table__.c)  # type: ignore[attr-defined]
    .where(
        col(Citation.entity_type) == bindparam("entity_type"),
        col(Citation.entity_id).in_(bindparam("ids", expanding=True)),
    )
    .order_by(col(Citation.entity_id), col(Citation.position))
)


def attach_citations(session: Session, entity_type: str, items: list[dict[str, Any]]) -> None:
    """Embed each item's citations (a list page or a single item) with one query."""
    cited = load_citations(session, entity_type, [item["id"] for item in items])
    for item in items:
        item["citations"] = cited.get(item["id"], [])
