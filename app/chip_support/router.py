from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from app.api import (
    INVALID,
    NOT_FOUND,
    DatedAsOf,
    DateQuery,
    Disputed,
    IdList,
    ItemId,
    KnownAsOf,
    NullTest,
    Page,
    PageParams,
    enum_query,
    item_response,
    page_params,
    split_values,
)
from app.chip_support.schemas import ChipSupportPublic, Relation
from app.chip_support.service import (
    FIELDS,
    INCLUDES,
    SORT,
    ChipSupportFilters,
    get_chip_support,
    list_chip_support,
)
from app.db import SessionDep
from app.history.views import item_as_of, respond_collection
from app.streaming import LIST_CONTENT, FormatQuery
from app.views import View, view_params

router = APIRouter(prefix="/v1/chip-support", tags=["chip-support"])
ChipSupportPage = Annotated[PageParams, Depends(page_params(SORT))]
ChipSupportView = Annotated[View, Depends(view_params(INCLUDES, FIELDS))]
RelationList = Annotated[str | None, enum_query([r.value for r in Relation], "relation")]
LIST_RESPONSES: dict[int | str, dict[str, Any]] = {**INVALID, 200: {"content": LIST_CONTENT}}


async def _chip_support_filters(
    model_id: IdList = None,
    chip_id: IdList = None,
    vendor_id: IdList = None,
    relation: RelationList = None,
    announced_from: DateQuery = None,
    announced_to: DateQuery = None,
    chip_id_null: NullTest = None,
    vendor_id_null: NullTest = None,
    announced_on_null: NullTest = None,
    disputed: Disputed = None,
) -> ChipSupportFilters:
    return ChipSupportFilters(
        model_id=split_values(model_id),
        chip_id=split_values(chip_id),
        vendor_id=split_values(vendor_id),
        relation=split_values(relation),
        announced_from=announced_from,
        announced_to=announced_to,
        chip_id_null=chip_id_null,
        vendor_id_null=vendor_id_null,
        announced_on_null=announced_on_null,
        disputed=disputed,
    )


ChipSupportQuery = Annotated[ChipSupportFilters, Depends(_chip_support_filters)]


@router.get("", response_model=Page[ChipSupportPublic], responses=LIST_RESPONSES)
async def chip_support_list(
    request: Request,
    session: SessionDep,
    page: ChipSupportPage,
    query: ChipSupportQuery,
    view: ChipSupportView,
    as_of: DatedAsOf,
    format: FormatQuery = None,
) -> Any:
    """Which chips (or chip vendors) run, trained, or are compatible with which models."""
    filters = replace(query, as_of=as_of.announced_by)
    return await respond_collection(
        request,
        session,
        entity_type="chip_support",
        at=as_of.known_at,
        filters=filters,
        page=page,
        view=view,
        format=format,
        name="chip-support",
        fetch=lambda s, p: list_chip_support(session=s, filters=filters, page=p, view=view),
    )


@router.get("/{id}", response_model=ChipSupportPublic, responses={**NOT_FOUND, **INVALID})
async def chip_support_get(
    request: Request,
    session: SessionDep,
    id: ItemId,
    view: ChipSupportView,
    as_of: KnownAsOf = None,
) -> Any:
    """One chip-support relation with its citations. `as_of=<timestamp>`: as recorded then."""
    if as_of is not None:
        return item_as_of(request, session, "chip_support", id, as_of, view)
    return item_response(request, get_chip_support(session=session, chip_support_id=id, view=view))
