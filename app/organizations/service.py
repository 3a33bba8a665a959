"""Queries for organizations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Select
from sqlmodel import Session, col, select

from app.api import PageParams
from app.filtering import where_equal, where_in, where_null
from app.listing import (
    SortSpec,
    fetch_page,
    filtered,
    rows_by_ids,
    search_condition,
    shown_columns,
)
from app.models import Organization
from app.rows import as_items
from app.views import Embed, View, cited_item, finish

ENTITY = "organization"
FIELDS = (
    "id",
    "name",
    "aliases",
    "kind",
    "country",
    "city",
    "parent_id",
    "description",
    "disputed",
)
COLUMNS = shown_columns(Organization)
SORT = SortSpec(
    "organizations",
    {
        "id": col(Organization.id),
        "name": col(Organization.name),
        "kind": col(Organization.kind),
        "country": col(Organization.country),
        "city": col(Organization.city),
    },
    default="name",
)


@dataclass(frozen=True)
class OrganizationFilters:
    q: str | None = None
    kind: tuple[str, ...] | None = None
    country: tuple[str, ...] | None = None
    parent_id: tuple[str, ...] | None = None
    country_null: bool | None = None
    city_null: bool | None = None
    parent_id_null: bool | None = None
    disputed: bool | None = None


def organization_public(row: Organization | Row[Any]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in FIELDS}


def organizations_by_id(session: Session, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    return {item["id"]: item for item in as_items(rows_by_ids(session, COLUMNS, ids), FIELDS)}


EMBEDS = {"parent": Embed("parent", "parent_id", organizations_by_id)}
INCLUDES = ("citations", "documents", *EMBEDS)


def _organizations_statement(session: Session, f: OrganizationFilters) -> Select[Any]:
    statement = select(*COLUMNS)
    if f.q is not None:
        statement = statement.where(search_condition(session, Organization, f.q))
    statement = where_in(statement, col(Organization.kind), f, "kind")
    statement = where_in(statement, col(Organization.country), f, "country")
    statement = where_in(statement, col(Organization.parent_id), f, "parent_id")
    statement = where_null(statement, col(Organization.country), f, "country_null")
    statement = where_null(statement, col(Organization.city), f, "city_null")
    statement = where_null(statement, col(Organization.parent_id), f, "parent_id_null")
    return where_equal(statement, col(Organization.disputed), f, "disputed")


def list_organizations(
    *,
    session: Session,
    filters: OrganizationFilters,
    page: PageParams,
    view: View = View(),
) -> tuple[list[dict[str, Any]], str | None]:
    query = filtered(
        "organizations",
        filters,
        lambda: _organizations_statement(session, filters),
    )
    rows, next_cursor = fetch_page(session, query, spec=SORT, page=page)
    items = as_items(rows, FIELDS)
    return finish(session, items, entity=ENTITY, view=view, embeds=EMBEDS), next_cursor


def get_organization(
    *, session: Session, organization_id: str, view: View = View()
) -> dict[str, Any]:
    return cited_item(
        session,
        Organization,
        organization_public,
        entity=ENTITY,
        label=ENTITY,
        item_id=organization_id,
        view=view,
        embeds=EMBEDS,
    )
