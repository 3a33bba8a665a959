"""Queries for chips."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from app.api import PageParams
from app.citations.service import attach_citations
from app.listing import SortSpec, fetch_page, get_or_404, search_condition
from app.models import Chip

ENTITY = "chip"
INCLUDES = ("citations",)
SORT = SortSpec(
    "chips",
    {"id": col(Chip.id), "name": col(Chip.name), "vendor_id": col(Chip.vendor_id)},
    default="name",
)


@dataclass(frozen=True)
class ChipFilters:
    q: str | None = None
    vendor_id: str | None = None


def chip_public(row: Chip) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "aliases": row.aliases,
        "vendor_id": row.vendor_id,
        "description": row.description,
        "disputed": row.disputed,
    }


def list_chips(
    *,
    session: Session,
    filters: ChipFilters,
    page: PageParams,
    include: frozenset[str] = frozenset(),
) -> tuple[list[dict[str, Any]], str | None]:
    statement = select(Chip)
    if filters.q is not None:
        statement = statement.where(search_condition(col(Chip.search_text), filters.q))
    if filters.vendor_id is not None:
        statement = statement.where(Chip.vendor_id == filters.vendor_id)
    rows, next_cursor = fetch_page(
        session, statement, spec=SORT, sort=page.sort, cursor=page.cursor, limit=page.limit
    )
    items = [chip_public(r) for r in rows]
    if "citations" in include:
        attach_citations(session, ENTITY, items)
    return items, next_cursor


def get_chip(*, session: Session, chip_id: str) -> dict[str, Any]:
    row = get_or_404(session, Chip, ENTITY, chip_id)
    item = chip_public(row)
    attach_citations(session, ENTITY, [item])
    return item
