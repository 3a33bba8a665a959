from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from app.api import (
    INVALID,
    NOT_FOUND,
    DateQuery,
    Disputed,
    IdList,
    ItemId,
    KnownAsOf,
    NullTest,
    Page,
    dated_as_of,
    enum_query,
    item_response,
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
from app.history.views import ListParams, item_as_of, list_params, respond_collection
from app.leanroute import LeanRoute
from app.streaming import LIST_CONTENT
from app.views import View, view_params

router = APIRouter(prefix="/v1/chip-support", tags=["chip-support"], route_class=LeanRoute)
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


CHIP_SUPPORT_LIST = list_params(
    "ChipSupportListQuery",
    filters=_chip_support_filters,
    sort=SORT,
    as_of=dated_as_of,
    view=view_params(INCLUDES, FIELDS),
)
ChipSupportListQuery = Annotated[ListParams[ChipSupportFilters], Depends(CHIP_SUPPORT_LIST)]


@router.get(
    "",
    response_model=Page[ChipSupportPublic],
    responses=LIST_RESPONSES,
    openapi_extra=CHIP_SUPPORT_LIST.openapi,
)
async def chip_support_list(
    request: Request, session: SessionDep, params: ChipSupportListQuery
) -> Any:
    """Which chips (or chip vendors) run, trained, or are compatible with which models."""
    filters = replace(params.filters, as_of=params.as_of.announced_by)
    view = params.view
    return await respond_collection(
        request,
        session,
        params,
        entity_type="chip_support",
        filters=filters,
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
