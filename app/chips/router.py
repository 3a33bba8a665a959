from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from app.api import (
    INVALID,
    NOT_FOUND,
    IncludeCitations,
    ItemId,
    Page,
    PageParams,
    RefFilter,
    SearchQuery,
    item_response,
    list_response,
    page_params,
)
from app.chips.schemas import ChipPublic
from app.chips.service import INCLUDES, SORT, ChipFilters, get_chip, list_chips
from app.db import SessionDep
from app.listing import parse_include

router = APIRouter(prefix="/v1/chips", tags=["chips"])
ChipPage = Annotated[PageParams, Depends(page_params(SORT))]


@router.get("", response_model=Page[ChipPublic], responses=INVALID)
def chips_list(
    request: Request,
    session: SessionDep,
    page: ChipPage,
    q: SearchQuery = None,
    vendor_id: RefFilter = None,
    include: IncludeCitations = None,
) -> Any:
    """AI chips and their vendors."""
    data, next_cursor = list_chips(
        session=session,
        filters=ChipFilters(q=q, vendor_id=vendor_id),
        page=page,
        include=parse_include(include, INCLUDES),
    )
    return list_response(request, data, next_cursor)


@router.get("/{id}", response_model=ChipPublic, responses=NOT_FOUND)
def chips_get(session: SessionDep, id: ItemId) -> Any:
    """One chip with its citations."""
    return item_response(get_chip(session=session, chip_id=id))
