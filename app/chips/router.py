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
    NullTest,
    Page,
    SearchQuery,
    item_response,
    list_as_of,
    split_values,
)
from app.chips.schemas import ChipPublic
from app.chips.service import FIELDS, INCLUDES, SORT, ChipFilters, get_chip, list_chips
from app.db import SessionDep
from app.history.views import ListParams, item_as_of, list_params, respond_collection
from app.leanroute import LeanRoute
from app.streaming import LIST_CONTENT
from app.views import View, view_params

router = APIRouter(prefix="/v1/chips", tags=["chips"], route_class=LeanRoute)
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


CHIP_LIST = list_params(
    "ChipListQuery",
    filters=_chip_filters,
    sort=SORT,
    as_of=list_as_of,
    view=view_params(INCLUDES, FIELDS),
)
ChipListQuery = Annotated[ListParams[ChipFilters], Depends(CHIP_LIST)]


@router.get(
    "", response_model=Page[ChipPublic], responses=LIST_RESPONSES, openapi_extra=CHIP_LIST.openapi
)
async def chips_list(request: Request, session: SessionDep, params: ChipListQuery) -> Any:
    """AI chips and their vendors."""
    query, view = params.filters, params.view
    return await respond_collection(
        request,
        session,
        params,
        entity_type="chip",
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
