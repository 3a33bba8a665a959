from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from app.ai_models.schemas import ModelPublic
from app.ai_models.service import FIELDS, INCLUDES, SORT, ModelFilters, get_model, list_models
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
    item_response,
    list_as_of,
    split_values,
)
from app.chip_support.router import CHIP_SUPPORT_LIST, ChipSupportListQuery
from app.chip_support.schemas import ChipSupportPublic
from app.chip_support.service import list_chip_support
from app.db import SessionDep
from app.history.views import ListParams, item_as_of, list_params, respond_collection
from app.leanroute import LeanRoute
from app.models import AIModel
from app.streaming import LIST_CONTENT
from app.views import View, view_params

router = APIRouter(prefix="/v1/models", tags=["models"], route_class=LeanRoute)
ModelView = Annotated[View, Depends(view_params(INCLUDES, FIELDS))]
LIST_RESPONSES: dict[int | str, dict[str, Any]] = {**INVALID, 200: {"content": LIST_CONTENT}}

Count = Annotated[int | None, Query(ge=0, le=10**15)]


async def _model_filters(
    q: SearchQuery = None,
    developer_id: IdList = None,
    developer_country: CountryList = None,
    open_weights: Annotated[bool | None, Query(description="Weights published.")] = None,
    reasoning: Annotated[bool | None, Query(description="Described as a reasoning model.")] = None,
    parameters_gte: Count = None,
    parameters_lte: Count = None,
    active_parameters_gte: Count = None,
    active_parameters_lte: Count = None,
    release_date_from: DateQuery = None,
    release_date_to: DateQuery = None,
    parameters_null: NullTest = None,
    active_parameters_null: NullTest = None,
    developer_id_null: NullTest = None,
    release_date_null: NullTest = None,
    open_weights_null: NullTest = None,
    reasoning_null: NullTest = None,
    license_null: NullTest = None,
    disputed: Disputed = None,
) -> ModelFilters:
    return ModelFilters(
        q=q,
        developer_id=split_values(developer_id),
        developer_country=split_values(developer_country, upper=True),
        open_weights=open_weights,
        reasoning=reasoning,
        parameters_gte=parameters_gte,
        parameters_lte=parameters_lte,
        active_parameters_gte=active_parameters_gte,
        active_parameters_lte=active_parameters_lte,
        release_date_from=release_date_from,
        release_date_to=release_date_to,
        parameters_null=parameters_null,
        active_parameters_null=active_parameters_null,
        developer_id_null=developer_id_null,
        release_date_null=release_date_null,
        open_weights_null=open_weights_null,
        reasoning_null=reasoning_null,
        license_null=license_null,
        disputed=disputed,
    )


MODEL_LIST = list_params(
    "ModelListQuery",
    filters=_model_filters,
    sort=SORT,
    as_of=list_as_of,
    view=view_params(INCLUDES, FIELDS),
)
ModelListQuery = Annotated[ListParams[ModelFilters], Depends(MODEL_LIST)]


@router.get(
    "",
    response_model=Page[ModelPublic],
    responses=LIST_RESPONSES,
    openapi_extra=MODEL_LIST.openapi,
)
async def models_list(request: Request, session: SessionDep, params: ModelListQuery) -> Any:
    """AI models, with their size, openness and developer."""
    view = params.view
    return await respond_collection(
        request,
        session,
        params,
        entity_type="model",
        name="models",
        fetch=lambda s, p: list_models(session=s, filters=params.filters, page=p, view=view),
    )


@router.get("/{id}", response_model=ModelPublic, responses={**NOT_FOUND, **INVALID})
async def models_get(
    request: Request,
    session: SessionDep,
    id: ItemId,
    view: ModelView,
    as_of: KnownAsOf = None,
) -> Any:
    """One model with its citations. `as_of=<timestamp>`: as recorded then."""
    if as_of is not None:
        return item_as_of(request, session, "model", id, as_of, view)
    return item_response(request, get_model(session=session, model_id=id, view=view))


@router.get(
    "/{id}/chip-support",
    response_model=Page[ChipSupportPublic],
    responses={**NOT_FOUND, **LIST_RESPONSES},
    openapi_extra=CHIP_SUPPORT_LIST.openapi,
)
async def model_chip_support(
    request: Request, session: SessionDep, id: ItemId, params: ChipSupportListQuery
) -> Any:
    """The chips (or chip vendors) that run, trained or are compatible with a model."""
    filters = replace(params.filters, model_id=(id,), as_of=params.as_of.announced_by)
    view = params.view
    return await respond_collection(
        request,
        session,
        params,
        entity_type="chip_support",
        filters=filters,
        name=f"{id}-chip-support",
        owner=(AIModel, "model", id),
        fetch=lambda s, p: list_chip_support(session=s, filters=filters, page=p, view=view),
    )
