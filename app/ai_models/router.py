from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from app.ai_models.schemas import ModelPublic
from app.ai_models.service import INCLUDES, SORT, ModelFilters, get_model, list_models
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
from app.chip_support.router import ChipSupportPage, ChipSupportQuery
from app.chip_support.schemas import ChipSupportPublic
from app.chip_support.service import INCLUDES as CHIP_SUPPORT_INCLUDES
from app.chip_support.service import list_chip_support
from app.db import SessionDep
from app.listing import get_or_404, parse_include
from app.models import AIModel

router = APIRouter(prefix="/v1/models", tags=["models"])
ModelPage = Annotated[PageParams, Depends(page_params(SORT))]

Count = Annotated[int | None, Query(ge=0, le=10**15)]


def _model_filters(
    q: SearchQuery = None,
    developer_id: RefFilter = None,
    open_weights: Annotated[bool | None, Query(description="Weights published.")] = None,
    reasoning: Annotated[bool | None, Query(description="Described as a reasoning model.")] = None,
    parameters_gte: Count = None,
    parameters_lte: Count = None,
    release_date_from: DateQuery = None,
    release_date_to: DateQuery = None,
) -> ModelFilters:
    return ModelFilters(
        q=q,
        developer_id=developer_id,
        open_weights=open_weights,
        reasoning=reasoning,
        parameters_gte=parameters_gte,
        parameters_lte=parameters_lte,
        release_date_from=release_date_from,
        release_date_to=release_date_to,
    )


ModelQuery = Annotated[ModelFilters, Depends(_model_filters)]


@router.get("", response_model=Page[ModelPublic], responses=INVALID)
def models_list(
    request: Request,
    session: SessionDep,
    page: ModelPage,
    query: ModelQuery,
    include: IncludeCitations = None,
) -> Any:
    """AI models, with their size, openness and developer."""
    data, next_cursor = list_models(
        session=session, filters=query, page=page, include=parse_include(include, INCLUDES)
    )
    return list_response(request, data, next_cursor)


@router.get("/{id}", response_model=ModelPublic, responses=NOT_FOUND)
def models_get(session: SessionDep, id: ItemId) -> Any:
    """One model with its citations."""
    return item_response(get_model(session=session, model_id=id))


@router.get(
    "/{id}/chip-support",
    response_model=Page[ChipSupportPublic],
    responses={**NOT_FOUND, **INVALID},
)
def model_chip_support(
    request: Request,
    session: SessionDep,
    id: ItemId,
    page: ChipSupportPage,
    query: ChipSupportQuery,
    include: IncludeCitations = None,
) -> Any:
    """The chips (or chip vendors) that run, trained or are compatible with a model."""
    get_or_404(session, AIModel, "model", id)
    data, next_cursor = list_chip_support(
        session=session,
        filters=replace(query, model_id=id),
        page=page,
        include=parse_include(include, CHIP_SUPPORT_INCLUDES),
    )
    return list_response(request, data, next_cursor)
