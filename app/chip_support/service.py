"""Queries for chip-support relations (which chips run or trained which models)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Select
from sqlmodel import Session, col, select

from app.ai_models.service import models_by_id
from app.api import PageParams
from app.chips.service import chips_by_id
from app.filtering import where_equal, where_in, where_null, where_range
from app.listing import (
    SortSpec,
    fetch_page,
    filtered,
    shown_columns,
)
from app.models import ChipSupport
from app.organizations.service import organizations_by_id
from app.rows import as_items
from app.views import Embed, View, cited_item, finish

ENTITY = "chip_support"
FIELDS = (
    "id",
    "model_id",
    "chip_id",
    "vendor_id",
    "relation",
    "announced_on",
    "announced_on_precision",
    "description",
    "disputed",
)
COLUMNS = shown_columns(ChipSupport)
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
EMBEDS = {
    "model": Embed("model", "model_id", models_by_id),
    "chip": Embed("chip", "chip_id", chips_by_id),
    "vendor": Embed("vendor", "vendor_id", organizations_by_id),
}
INCLUDES = ("citations", "documents", *EMBEDS)


@dataclass(frozen=True)
class ChipSupportFilters:
    model_id: tuple[str, ...] | None = None
    chip_id: tuple[str, ...] | None = None
    vendor_id: tuple[str, ...] | None = None
    relation: tuple[str, ...] | None = None
    announced_from: dt.date | None = None
    announced_to: dt.date | None = None
    # The relations known on a date: announced on or before it (undated ones excluded).
    as_of: dt.date | None = None
    chip_id_null: bool | None = None
    vendor_id_null: bool | None = None
    announced_on_null: bool | None = None
    disputed: bool | None = None


def chip_support_public(row: ChipSupport | Row[Any]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in FIELDS}


def _chip_support_statement(f: ChipSupportFilters) -> Select[Any]:
    statement = select(*COLUMNS)
    statement = where_in(statement, col(ChipSupport.model_id), f, "model_id")
    statement = where_in(statement, col(ChipSupport.chip_id), f, "chip_id")
    statement = where_in(statement, col(ChipSupport.vendor_id), f, "vendor_id")
    statement = where_in(statement, col(ChipSupport.relation), f, "relation")
    announced = col(ChipSupport.announced_on)
    statement = where_range(statement, announced, f, "announced_from", "announced_to")
    statement = where_range(statement, announced, f, None, "as_of")
    statement = where_null(statement, col(ChipSupport.chip_id), f, "chip_id_null")
    statement = where_null(statement, col(ChipSupport.vendor_id), f, "vendor_id_null")
    statement = where_null(statement, announced, f, "announced_on_null")
    return where_equal(statement, col(ChipSupport.disputed), f, "disputed")


def list_chip_support(
    *,
    session: Session,
    filters: ChipSupportFilters,
    page: PageParams,
    view: View = View(),
) -> tuple[list[dict[str, Any]], str | None]:
    query = filtered("chip-support", filters, lambda: _chip_support_statement(filters))
    rows, next_cursor = fetch_page(session, query, spec=SORT, page=page)
    items = as_items(rows, FIELDS)
    return finish(session, items, entity=ENTITY, view=view, embeds=EMBEDS), next_cursor


def get_chip_support(
    *, session: Session, chip_support_id: str, view: View = View()
) -> dict[str, Any]:
    return cited_item(
        session,
        ChipSupport,
        chip_support_public,
        entity=ENTITY,
        label="chip-support relation",
        item_id=chip_support_id,
        view=view,
        embeds=EMBEDS,
    )
