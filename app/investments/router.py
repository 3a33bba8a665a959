from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from app.api import (
    INVALID,
    NOT_FOUND,
    CountryList,
    DateQuery,
    Disputed,
    IdList,
    ItemId,
    KnownAsOf,
    NullTest,
    Page,
    SearchQuery,
    dated_as_of,
    enum_query,
    item_response,
    split_values,
)
from app.db import SessionDep
from app.history.views import ListParams, item_as_of, list_params, respond_collection
from app.investments.schemas import InvestmentKind, InvestmentPublic, InvestmentStatus
from app.investments.service import (
    FIELDS,
    INCLUDES,
    SORT,
    InvestmentFilters,
    get_investment,
    list_investments,
)
from app.leanroute import LeanRoute
from app.streaming import LIST_CONTENT
from app.views import View, view_params

router = APIRouter(prefix="/v1/investments", tags=["investments"], route_class=LeanRoute)
InvestmentView = Annotated[View, Depends(view_params(INCLUDES, FIELDS))]
KindList = Annotated[str | None, enum_query([k.value for k in InvestmentKind], "kind")]
StatusList = Annotated[str | None, enum_query([s.value for s in InvestmentStatus], "status")]
LIST_RESPONSES: dict[int | str, dict[str, Any]] = {**INVALID, 200: {"content": LIST_CONTENT}}

Usd = Annotated[int | None, Query(ge=0, le=10**15, description="US dollars.")]


async def _investment_filters(
    q: SearchQuery = None,
    kind: KindList = None,
    status: StatusList = None,
    investor_id: IdList = None,
    investor_country: CountryList = None,
    recipient_id: IdList = None,
    amount_usd_gte: Usd = None,
    amount_usd_lte: Usd = None,
    announced_from: DateQuery = None,
    announced_to: DateQuery = None,
    amount_null: NullTest = None,
    recipient_id_null: NullTest = None,
    announced_on_null: NullTest = None,
    disputed: Disputed = None,
) -> InvestmentFilters:
    return InvestmentFilters(
        q=q,
        kind=split_values(kind),
        status=split_values(status),
        investor_id=split_values(investor_id),
        investor_country=split_values(investor_country, upper=True),
        recipient_id=split_values(recipient_id),
        amount_usd_gte=amount_usd_gte,
        amount_usd_lte=amount_usd_lte,
        announced_from=announced_from,
        announced_to=announced_to,
        amount_null=amount_null,
        recipient_id_null=recipient_id_null,
        announced_on_null=announced_on_null,
        disputed=disputed,
    )


INVESTMENT_LIST = list_params(
    "InvestmentListQuery",
    filters=_investment_filters,
    sort=SORT,
    as_of=dated_as_of,
    view=view_params(INCLUDES, FIELDS),
)
InvestmentListQuery = Annotated[ListParams[InvestmentFilters], Depends(INVESTMENT_LIST)]


@router.get(
    "",
    response_model=Page[InvestmentPublic],
    responses=LIST_RESPONSES,
    openapi_extra=INVESTMENT_LIST.openapi,
)
async def investments_list(
    request: Request, session: SessionDep, params: InvestmentListQuery
) -> Any:
    """Money pledged, spent or estimated in AI, with its investors and recipient.

    `amount_usd_gte` / `amount_usd_lte` keep an investment whose range reaches the bound.
    """
    filters = replace(params.filters, as_of=params.as_of.announced_by)
    view = params.view
    return await respond_collection(
        request,
        session,
        params,
        entity_type="investment",
        filters=filters,
        name="investments",
        fetch=lambda s, p: list_investments(session=s, filters=filters, page=p, view=view),
    )


@router.get("/{id}", response_model=InvestmentPublic, responses={**NOT_FOUND, **INVALID})
async def investments_get(
    request: Request,
    session: SessionDep,
    id: ItemId,
    view: InvestmentView,
    as_of: KnownAsOf = None,
) -> Any:
    """One investment with its citations. `as_of=<timestamp>`: as recorded then."""
    if as_of is not None:
        return item_as_of(request, session, "investment", id, as_of, view)
    return item_response(request, get_investment(session=session, investment_id=id, view=view))
