from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from app.api import (
    INVALID,
    NOT_FOUND,
    DateQuery,
    IncludeCitations,
    ItemId,
    Page,
    PageParams,
    RefFilter,
    item_response,
    list_response,
    page_params,
)
from app.chip_support.schemas import ChipSupportPublic, Relation
from app.chip_support.service import (
    INCLUDES,
    SORT,
    ChipSupportFilters,
    get_chip_support,
    list_chip_support,
)
from app.db import SessionDep
from app.listing import parse_include

router = APIRouter(prefix="/v1/chip-support", tags=["chip-support"])
ChipSupportPage = Annotated[PageParams, Depends(page_params(SORT))]


def _chip_support_filters(
    model_id: RefFilter = None,
    chip_id: RefFilter = None,
    vendor_id: RefFilter = None,
    relation: Annotated[Relation | None, Query()] = None,
    announced_from: DateQuery = None,
    announced_to: DateQuery = None,
) -> ChipSupportFilters:
    return ChipSupportFilters(
        model_id=model_id,
        chip_id=chip_id,
        vendor_id=vendor_id,
        relation=relation.value if relation else None,
        announced_from=announced_from,
        announced_to=announced_to,
    )


ChipSupportQuery = Annotated[ChipSupportFilters, Depends(_chip_support_filters)]


@router.get("", response_model=Page[ChipSupportPublic], responses=INVALID)
def chip_support_list(
    request: Request,
    session: SessionDep,
    page: ChipSupportPage,
    query: ChipSupportQuery,
    include: IncludeCitations = None,
) -> Any:
    """Which chips (or chip vendors) run, trained, or are compatible with which models."""
    data, next_cursor = list_chip_support(
        session=session, filters=query, page=page, include=parse_include(include, INCLUDES)
    )
    return list_response(request, data, next_cursor)


@router.get("/{id}", response_model=ChipSupportPublic, responses=NOT_FOUND)
def chip_support_get(session: SessionDep, id: ItemId) -> Any:
    """One chip-support relation with its citations."""
    return item_response(get_chip_support(session=session, chip_support_id=id))
