"""Queries for AI models."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from app.api import PageParams
from app.citations.service import attach_citations
from app.listing import SortSpec, fetch_page, get_or_404, search_condition
from app.models import AIModel

ENTITY = "model"
INCLUDES = ("citations",)
SORT = SortSpec(
    "models",
    {
        "id": col(AIModel.id),
        "name": col(AIModel.name),
        "parameters": col(AIModel.parameters),
        "release_date": col(AIModel.release_date),
        "developer_id": col(AIModel.developer_id),
    },
    default="name",
)


@dataclass(frozen=True)
class ModelFilters:
    q: str | None = None
    developer_id: str | None = None
    open_weights: bool | None = None
    reasoning: bool | None = None
    parameters_gte: int | None = None
    parameters_lte: int | None = None
    release_date_from: dt.date | None = None
    release_date_to: dt.date | None = None


def model_public(row: AIModel) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "aliases": row.aliases,
        "developer_id": row.developer_id,
        "parameters": row.parameters,
        "active_parameters": row.active_parameters,
        "open_weights": row.open_weights,
        "reasoning": row.reasoning,
        "release_date": row.release_date,
        "release_date_precision": row.release_date_precision,
        "license": row.license,
        "description": row.description,
        "disputed": row.disputed,
    }


def list_models(
    *,
    session: Session,
    filters: ModelFilters,
    page: PageParams,
    include: frozenset[str] = frozenset(),
) -> tuple[list[dict[str, Any]], str | None]:
    statement = select(AIModel)
    if filters.q is not None:
        statement = statement.where(search_condition(col(AIModel.search_text), filters.q))
    if filters.developer_id is not None:
        statement = statement.where(AIModel.developer_id == filters.developer_id)
    if filters.open_weights is not None:
        statement = statement.where(AIModel.open_weights == filters.open_weights)
    if filters.reasoning is not None:
        statement = statement.where(AIModel.reasoning == filters.reasoning)
    if filters.parameters_gte is not None:
        statement = statement.where(col(AIModel.parameters) >= filters.parameters_gte)
    if filters.parameters_lte is not None:
        statement = statement.where(col(AIModel.parameters) <= filters.parameters_lte)
    if filters.release_date_from is not None:
        statement = statement.where(col(AIModel.release_date) >= filters.release_date_from)
    if filters.release_date_to is not None:
        statement = statement.where(col(AIModel.release_date) <= filters.release_date_to)
    rows, next_cursor = fetch_page(
        session, statement, spec=SORT, sort=page.sort, cursor=page.cursor, limit=page.limit
    )
    items = [model_public(r) for r in rows]
    if "citations" in include:
        attach_citations(session, ENTITY, items)
    return items, next_cursor


def get_model(*, session: Session, model_id: str) -> dict[str, Any]:
    row = get_or_404(session, AIModel, ENTITY, model_id)
    item = model_public(row)
    attach_citations(session, ENTITY, [item])
    return item
