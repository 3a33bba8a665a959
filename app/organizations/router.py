from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from app.ai_models.router import ModelPage, ModelQuery
from app.ai_models.schemas import ModelPublic
from app.ai_models.service import INCLUDES as MODEL_INCLUDES
from app.ai_models.service import list_models
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
from app.db import SessionDep
from app.investments.router import InvestmentPage, InvestmentQuery
from app.investments.schemas import InvestmentPublic
from app.investments.service import INCLUDES as INVESTMENT_INCLUDES
from app.investments.service import list_investments
from app.listing import get_or_404, parse_include
from app.models import Organization
from app.organizations.schemas import OrganizationKind, OrganizationPublic
from app.organizations.service import (
    INCLUDES,
    SORT,
    OrganizationFilters,
    get_organization,
    list_organizations,
)

router = APIRouter(prefix="/v1/organizations", tags=["organizations"])
OrganizationPage = Annotated[PageParams, Depends(page_params(SORT))]


@router.get("", response_model=Page[OrganizationPublic], responses=INVALID)
def organizations_list(
    request: Request,
    session: SessionDep,
    page: OrganizationPage,
    q: SearchQuery = None,
    kind: Annotated[OrganizationKind | None, Query()] = None,
    country: Annotated[
        str | None,
        Query(pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2, e.g. CN."),
    ] = None,
    parent_id: RefFilter = None,
    include: IncludeCitations = None,
) -> Any:
    """Organizations: companies, labs, universities, funds, joint ventures, governments."""
    filters = OrganizationFilters(
        q=q,
        kind=kind.value if kind else None,
        country=country.upper() if country else None,
        parent_id=parent_id,
    )
    data, next_cursor = list_organizations(
        session=session, filters=filters, page=page, include=parse_include(include, INCLUDES)
    )
    return list_response(request, data, next_cursor)


@router.get("/{id}", response_model=OrganizationPublic, responses=NOT_FOUND)
def organizations_get(session: SessionDep, id: ItemId) -> Any:
    """One organization with its citations."""
    return item_response(get_organization(session=session, organization_id=id))


@router.get(
    "/{id}/models",
    response_model=Page[ModelPublic],
    responses={**NOT_FOUND, **INVALID},
)
def organization_models(
    request: Request,
    session: SessionDep,
    id: ItemId,
    page: ModelPage,
    query: ModelQuery,
    include: IncludeCitations = None,
) -> Any:
    """The models an organization develops (same filters as /v1/models)."""
    get_or_404(session, Organization, "organization", id)
    data, next_cursor = list_models(
        session=session,
        filters=replace(query, developer_id=id),
        page=page,
        include=parse_include(include, MODEL_INCLUDES),
    )
    return list_response(request, data, next_cursor)


@router.get(
    "/{id}/investments",
    response_model=Page[InvestmentPublic],
    responses={**NOT_FOUND, **INVALID},
)
def organization_investments(
    request: Request,
    session: SessionDep,
    id: ItemId,
    page: InvestmentPage,
    query: InvestmentQuery,
    include: IncludeCitations = None,
) -> Any:
    """Investments the organization makes, takes part in, or receives."""
    get_or_404(session, Organization, "organization", id)
    data, next_cursor = list_investments(
        session=session,
        filters=replace(query, organization_id=id),
        page=page,
        include=parse_include(include, INVESTMENT_INCLUDES),
    )
    return list_response(request, data, next_cursor)
