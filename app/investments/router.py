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
    SearchQuery,
    item_response,
    list_response,
    page_params,
)
from app.db import SessionDep
from app.investments.schemas import InvestmentKind, InvestmentPublic, InvestmentStatus
from app.investments.service import (
    INCLUDES,
    SORT,
    InvestmentFilters,
    get_investment,
    list_investments,
)
from app.listing import parse_include

router = APIRouter(prefix="/v1/investments", tags=["investments"])
InvestmentPage = Annotated[PageParams, Depends(page_params(SORT))]

Usd = Annotated[int | None, Query(ge=0, le=10**15, description="US dollars.")]
Day = DateQuery


def _investment_filters(
    q: SearchQuery = None,
    kind: Annotated[InvestmentKind | None, Query()] = None,
    status: Annotated[InvestmentStatus | None, Query()] = None,
    investor_id: RefFilter = None,
    recipient_id: RefFilter = None,
    amount_usd_gte: Usd = None,
    amount_usd_lte: Usd = None,
    announced_from: DateQuery = None,
    announced_to: DateQuery = None,
) -> InvestmentFilters:
    return InvestmentFilters(
        q=q,
        kind=kind.value if kind else None,
        status=status.value if status else None,
        investor_id=investor_id,
        recipient_id=recipient_id,
        amount_usd_gte=amount_usd_gte,
        amount_usd_lte=amount_usd_lte,
        announced_from=announced_from,
        announced_to=announced_to,
    )


InvestmentQuery = Annotated[InvestmentFilters, Depends(_investment_filters)]


@router.get("", response_model=Page[InvestmentPublic], responses=INVALID)
def investments_list(
    request: Request,
    session: SessionDep,
    page: InvestmentPage,
    query: InvestmentQuery,
    include: IncludeCitations = None,
) -> Any:
    """Money pledged, spent or estimated in AI, with its investors and recipient.

    `amount_usd_gte` / `amount_usd_lte` keep an investment whose range reaches the bound.
    """
    data, next_cursor = list_investments(
        session=session, filters=query, page=page, include=parse_include(include, INCLUDES)
    )
    return list_response(request, data, next_cursor)


@router.get("/{id}", response_model=InvestmentPublic, responses=NOT_FOUND)
def investments_get(session: SessionDep, id: ItemId) -> Any:
    """One investment with its citations."""
    return item_response(get_investment(session=session, investment_id=id))
