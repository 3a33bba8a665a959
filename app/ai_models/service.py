"""Queries for AI models."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Select
from sqlmodel import Session, col, select

from app.api import PageParams
from app.filtering import in_values, where_equal, where_in, where_null, where_range
from app.listing import (
    SortSpec,
    fetch_page,
    filtered,
    rows_by_ids,
    search_condition,
    shown_columns,
)
from app.models import AIModel, Organization
from app.organizations.service import organizations_by_id
from app.rows import as_items
from app.views import Embed, View, cited_item, finish

ENTITY = "model"
FIELDS = (
    "id",
    "name",
    "aliases",
    "developer_id",
    "parameters",
    "active_parameters",
    "open_weights",
    "reasoning",
    "release_date",
    "release_date_precision",
    "license",
    "description",
    "disputed",
)
SORT = SortSpec(
    "models",
    {
        "id": col(AIModel.id),
        "name": col(AIModel.name),
        "parameters": col(AIModel.parameters),
        "active_parameters": col(AIModel.active_parameters),
        "release_date": col(AIModel.release_date),
        "developer_id": col(AIModel.developer_id),
    },
    default="name",
)
COLUMNS = shown_columns(AIModel)
EMBEDS = {"developer": Embed("developer", "developer_id", organizations_by_id)}
INCLUDES = ("citations", "documents", *EMBEDS)


@dataclass(frozen=True)
class ModelFilters:
    q: str | None = None
    developer_id: tuple[str, ...] | None = None
    developer_country: tuple[str, ...] | None = None
    open_weights: bool | None = None
    reasoning: bool | None = None
    parameters_gte: int | None = None
    parameters_lte: int | None = None
    active_parameters_gte: int | None = None
    active_parameters_lte: int | None = None
    release_date_from: dt.date | None = None
    release_date_to: dt.date | None = None
    parameters_null: bool | None = None
    active_parameters_null: bool | None = None
    developer_id_null: bool | None = None
    release_date_null: bool | None = None
    open_weights_null: bool | None = None
    reasoning_null: bool | None = None
    license_null: bool | None = None
    disputed: bool | None = None


def model_public(row: AIModel | Row[Any]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in FIELDS}


def models_by_id(session: Session, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    return {item["id"]: item for item in as_items(rows_by_ids(session, COLUMNS, ids), FIELDS)}


def _models_statement(session: Session, f: ModelFilters) -> Select[Any]:
    statement = select(*COLUMNS)
    if f.q is not None:
        statement = statement.where(search_condition(session, AIModel, f.q))
    statement = where_in(statement, col(AIModel.developer_id), f, "developer_id")
    if f.developer_country is not None:
        countries = in_values(
            col(Organization.country), "developer_country", len(f.developer_country)
        )
        developers = select(Organization.id).where(countries)
        statement = statement.where(col(AIModel.developer_id).in_(developers))
    statement = where_equal(statement, col(AIModel.open_weights), f, "open_weights")
    statement = where_equal(statement, col(AIModel.reasoning), f, "reasoning")
    statement = where_range(
        statement, col(AIModel.parameters), f, "parameters_gte", "parameters_lte"
    )
    statement = where_range(
        statement,
        col(AIModel.active_parameters),
        f,
        "active_parameters_gte",
        "active_parameters_lte",
    )
    statement = where_range(
        statement, col(AIModel.release_date), f, "release_date_from", "release_date_to"
    )
    statement = where_null(statement, col(AIModel.parameters), f, "parameters_null")
    statement = where_null(statement, col(AIModel.active_parameters), f, "active_parameters_null")
    statement = where_null(statement, col(AIModel.developer_id), f, "developer_id_null")
    statement = where_null(statement, col(AIModel.release_date), f, "release_date_null")
    statement = where_null(statement, col(AIModel.open_weights), f, "open_weights_null")
    statement = where_null(statement, col(AIModel.reasoning), f, "reasoning_null")
    statement = where_null(statement, col(AIModel.license), f, "license_null")
    return where_equal(statement, col(AIModel.disputed), f, "disputed")


def list_models(
    *,
    session: Session,
    filters: ModelFilters,
    page: PageParams,
    view: View = View(),
) -> tuple[list[dict[str, Any]], str | None]:
    query = filtered(
        "models",
        filters,
        lambda: _models_statement(session, filters),
    )
    rows, next_cursor = fetch_page(session, query, spec=SORT, page=page)
    items = as_items(rows, FIELDS)
    return finish(session, items, entity=ENTITY, view=view, embeds=EMBEDS), next_cursor


def get_model(*, session: Session, model_id: str, view: View = View()) -> dict[str, Any]:
    return cited_item(
        session,
        AIModel,
        model_public,
        entity=ENTITY,
        label=ENTITY,
        item_id=model_id,
        view=view,
        embeds=EMBEDS,
    )
