"""Queries for chips."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Select
from sqlmodel import Session, col, select

from app.api import PageParams
from app.filtering import where_equal, where_in, where_null
from app.listing import (
    SortSpec,
    fetch_page,
    filtered,
    rows_by_ids,
    search_condition,
    shown_columns,
)
from app.models import Chip
from app.organizations.service import organizations_by_id
from app.rows import as_items
from app.views import Embed, View, cited_item, finish

ENTITY = "chip"
FIELDS = ("id", "name", "aliases", "vendor_id", "description", "disputed")
COLUMNS = shown_columns(Chip)
SORT = SortSpec(
    "chips",
    {"id": col(Chip.id), "name": col(Chip.name), "vendor_id": col(Chip.vendor_id)},
    default="name",
)
EMBEDS = {"vendor": Embed("vendor", "vendor_id", organizations_by_id)}
INCLUDES = ("citations", "documents", *EMBEDS)


@dataclass(frozen=True)
class ChipFilters:
    q: str | None = None
    vendor_id: tuple[str, ...] | None = None
    vendor_id_null: bool | None = None
    disputed: bool | None = None


def chip_public(row: Chip | Row[Any]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in FIELDS}


def chips_by_id(session: Session, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    return {item["id"]: item for item in as_items(rows_by_ids(session, COLUMNS, ids), FIELDS)}


def _chips_statement(session: Session, f: ChipFilters) -> Select[Any]:
    statement = select(*COLUMNS)
    if f.q is not None:
        statement = statement.where(search_condition(session, Chip, f.q))
    statement = where_in(statement, col(Chip.vendor_id), f, "vendor_id")
    statement = where_null(statement, col(Chip.vendor_id), f, "vendor_id_null")
    return where_equal(statement, col(Chip.disputed), f, "disputed")


def list_chips(
    *,
    session: Session,
    filters: ChipFilters,
    page: PageParams,
    view: View = View(),
) -> tuple[list[dict[str, Any]], str | None]:
    query = filtered("chips", filters, lambda: _chips_statement(session, filters))
    rows, next_cursor = fetch_page(session, query, spec=SORT, page=page)
    items = as_items(rows, FIELDS)
    return finish(session, items, entity=ENTITY, view=view, embeds=EMBEDS), next_cursor


def get_chip(*, session: Session, chip_id: str, view: View = View()) -> dict[str, Any]:
    return cited_item(
        session,
        Chip,
        chip_public,
        entity=ENTITY,
        label=ENTITY,
        item_id=chip_id,
        view=view,
        embeds=EMBEDS,
    )
