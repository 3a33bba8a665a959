from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from app.ai_models.router import MODEL_LIST, ModelListQuery
from app.ai_models.schemas import ModelPublic
from app.ai_models.service import list_models
from app.api import (
    INVALID,
    NOT_FOUND,
    CountryList,
    Disputed,
    IdList,
    ItemId,
    KnownAsOf,
    NullTest,
    Page,
    SearchQuery,
    enum_query,
    item_response,
    list_as_of,
    split_values,
)
from app.db import SessionDep
from app.history.views import ListParams, item_as_of, list_params, respond_collection
from app.investments.router import INVESTMENT_LIST, InvestmentListQuery
from app.investments.schemas import InvestmentPublic
from app.investments.service import list_investments
from app.leanroute import LeanRoute
from app.models import Organization
from app.organizations.schemas import OrganizationKind, OrganizationPublic
from app.organizations.service import (
    FIELDS,
    INCLUDES,
    SORT,
    OrganizationFilters,
    get_organization,
    list_organizations,
)
from app.streaming import LIST_CONTENT
from app.views import View, view_params

router = APIRouter(prefix="/v1/organizations", tags=["organizations"], route_class=LeanRoute)
OrganizationView = Annotated[View, Depends(view_params(INCLUDES, FIELDS))]
KindList = Annotated[str | None, enum_query([k.value for k in OrganizationKind], "kind")]
LIST_RESPONSES: dict[int | str, dict[str, Any]] = {**INVALID, 200: {"content": LIST_CONTENT}}


async def _organization_filters(
    q: SearchQuery = None,
    kind: KindList = None,
    country: CountryList = None,
    parent_id: IdList = None,
    country_null: NullTest = None,
    city_null: NullTest = None,
    parent_id_null: NullTest = None,
    disputed: Disputed = None,
) -> OrganizationFilters:
    return OrganizationFilters(
        q=q,
        kind=split_values(kind),
        country=split_values(country, upper=True),
        parent_id=split_values(parent_id),
        country_null=country_null,
        city_null=city_null,
        parent_id_null=parent_id_null,
        disputed=disputed,
    )


ORGANIZATION_LIST = list_params(
    "OrganizationListQuery",
    filters=_organization_filters,
    sort=SORT,
    as_of=list_as_of,
    view=view_params(INCLUDES, FIELDS),
)
OrganizationListQuery = Annotated[ListParams[OrganizationFilters], Depends(ORGANIZATION_LIST)]


@router.get(
    "",
    response_model=Page[OrganizationPublic],
    responses=LIST_RESPONSES,
    openapi_extra=ORGANIZATION_LIST.openapi,
)
async def organizations_list(
    request: Request, session: SessionDep, params: OrganizationListQuery
) -> Any:
    """Organizations: companies, labs, universities, funds, joint ventures, governments."""
    query, view = params.filters, params.view
    return await respond_collection(
        request,
        session,
        params,
        entity_type="organization",
        name="organizations",
        fetch=lambda s, p: list_organizations(session=s, filters=query, page=p, view=view),
    )


@router.get("/{id}", response_model=OrganizationPublic, responses={**NOT_FOUND, **INVALID})
async def organizations_get(
    request: Request,
    session: SessionDep,
    id: ItemId,
    view: OrganizationView,
    as_of: KnownAsOf = None,
) -> Any:
    """One organization with its citations. `as_of=<timestamp>`: as recorded then."""
    if as_of is not None:
        return item_as_of(request, session, "organization", id, as_of, view)
    return item_response(request, get_organization(session=session, organization_id=id, view=view))


@router.get(
    "/{id}/models",
    response_model=Page[ModelPublic],
    responses={**NOT_FOUND, **LIST_RESPONSES},
    openapi_extra=MODEL_LIST.openapi,
)
async def organization_models(
    request: Request, session: SessionDep, id: ItemId, params: ModelListQuery
) -> Any:
    """The models an organization develops (same filters as /v1/models)."""
    filters = replace(params.filters, developer_id=(id,))
    view = params.view
    return await respond_collection(
        request,
        session,
        params,
        entity_type="model",
        filters=filters,
        name=f"{id}-models",
        owner=(Organization, "organization", id),
        fetch=lambda s, p: list_models(session=s, filters=filters, page=p, view=view),
    )


@router.get(
    "/{id}/investments",
    response_model=Page[InvestmentPublic],
    responses={**NOT_FOUND, **LIST_RESPONSES},
    openapi_extra=INVESTMENT_LIST.openapi,
)
async def organization_investments(
    request: Request, session: SessionDep, id: ItemId, params: InvestmentListQuery
) -> Any:
    """Investments the organization makes, takes part in, or receives."""
    filters = replace(params.filters, organization_id=id, as_of=params.as_of.announced_by)
    view = params.view
    return await respond_collection(
        request,
        session,
        params,
        entity_type="investment",
        filters=filters,
        name=f"{id}-investments",
        owner=(Organization, "organization", id),
        fetch=lambda s, p: list_investments(session=s, filters=filters, page=p, view=view),
    )
