from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from app.api import (
    INVALID,
    NOT_FOUND,
    Disputed,
    IdList,
    ItemId,
    KnownAsOf,
    ListAsOf,
    NullTest,
    Page,
    PageParams,
    SearchQuery,
    item_response,
    page_params,
    split_values,
)
from app.chips.schemas import ChipPublic
from app.chips.service import FIELDS, INCLUDES, SORT, ChipFilters, get_chip, list_chips
from app.db import SessionDep
from app.history.views import item_as_of, respond_collection
from app.streaming import LIST_CONTENT, FormatQuery
from app.views import View, view_params

router = APIRouter(prefix="/v1/chips", tags=["chips"])
ChipPage = Annotated[PageParams, Depends(page_params(SORT))]
ChipView = Annotated[View, Depends(view_params(INCLUDES, FIELDS))]
LIST_RESPONSES: dict[int | str, dict[str, Any]] = {**INVALID, 200: {"content": LIST_CONTENT}}


async def _chip_filters(
    q: SearchQuery = None,
    vendor_id: IdList = None,
    vendor_id_null: NullTest = None,
    disputed: Disputed = None,
) -> ChipFilters:
    return ChipFilters(
        q=q, vendor_id=split_values(vendor_id), vendor_id_null=vendor_id_null, disputed=disputed
    )


ChipQuery = Annotated[ChipFilters, Depends(_chip_filters)]


@router.get("", response_model=Page[ChipPublic], responses=LIST_RESPONSES)
async def chips_list(
    request: Request,
    session: SessionDep,
    page: ChipPage,
    query: ChipQuery,
    view: ChipView,
    as_of: ListAsOf,
    format: FormatQuery = None,
) -> Any:
    """AI chips and their vendors."""
    return await respond_collection(
        request,
        session,
        entity_type="chip",
        at=as_of,
        filters=query,
        page=page,
        view=view,
        format=format,
        name="chips",
        fetch=lambda s, p: list_chips(session=s, filters=query, page=p, view=view),
    )


@router.get("/{id}", response_model=ChipPublic, responses={**NOT_FOUND, **INVALID})
async def chips_get(
    request: Request,
    session: SessionDep,
    id: ItemId,
    view: ChipView,
    as_of: KnownAsOf = None,
) -> Any:
    """One chip with its citations. `as_of=<timestamp>`: as recorded then."""
    if as_of is not None:
        return item_as_of(request, session, "chip", id, as_of, view)
    return item_response(request, get_chip(session=session, chip_id=id, view=view))
