"""Queries for chip-support relations (which chips run or trained which models)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from app.api import PageParams
from app.citations.service import attach_citations
from app.listing import SortSpec, fetch_page, get_or_404
from app.models import ChipSupport

ENTITY = "chip_support"
INCLUDES = ("citations",)
SORT = SortSpec(
    "chip-support",
    {
        "id": col(ChipSupport.id),
        "model_id": col(ChipSupport.model_id),
        "chip_id": col(ChipSupport.chip_id),
        "vendor_id": col(ChipSupport.vendor_id),
        "relation": col(ChipSupport.relation),
        "announced_on": col(ChipSupport.announced_on),
    },
    default="id",
)


@dataclass(frozen=True)
class ChipSupportFilters:
    model_id: str | None = None
    chip_id: str | None = None
    vendor_id: str | None = None
    relation: str | None = None
    announced_from: dt.date | None = None
    announced_to: dt.date | None = None


def chip_support_public(row: ChipSupport) -> dict[str, Any]:
    return {
        "id": row.id,
        "model_id": row.model_id,
        "chip_id": row.chip_id,
        "vendor_id": row.vendor_id,
        "relation": row.relation,
        "announced_on": row.announced_on,
        "announced_on_precision": row.announced_on_precision,
        "description": row.description,
        "disputed": row.disputed,
    }


def list_chip_support(
    *,
    session: Session,
    filters: ChipSupportFilters,
    page: PageParams,
    include: frozenset[str] = frozenset(),
) -> tuple[list[dict[str, Any]], str | None]:
    statement = select(ChipSupport)
    if filters.model_id is not None:
        statement = statement.where(ChipSupport.model_id == filters.model_id)
    if filters.chip_id is not None:
        statement = statement.where(ChipSupport.chip_id == filters.chip_id)
    if filters.vendor_id is not None:
        statement = statement.where(ChipSupport.vendor_id == filters.vendor_id)
    if filters.relation is not None:
        statement = statement.where(ChipSupport.relation == filters.relation)
    if filters.announced_from is not None:
        statement = statement.where(col(ChipSupport.announced_on) >= filters.announced_from)
    if filters.announced_to is not None:
        statement = statement.where(col(ChipSupport.announced_on) <= filters.announced_to)
    rows, next_cursor = fetch_page(
        session, statement, spec=SORT, sort=page.sort, cursor=page.cursor, limit=page.limit
    )
    items = [chip_support_public(r) for r in rows]
    if "citations" in include:
        attach_citations(session, ENTITY, items)
    return items, next_cursor


def get_chip_support(*, session: Session, chip_support_id: str) -> dict[str, Any]:
    row = get_or_404(session, ChipSupport, "chip-support relation", chip_support_id)
    item = chip_support_public(row)
    attach_citations(session, ENTITY, [item])
    return item
