"""Queries for organizations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from app.api import PageParams
from app.citations.service import attach_citations
from app.listing import SortSpec, fetch_page, get_or_404, search_condition
from app.models import Organization

ENTITY = "organization"
INCLUDES = ("citations",)
SORT = SortSpec(
    "organizations",
    {
        "id": col(Organization.id),
        "name": col(Organization.name),
        "kind": col(Organization.kind),
        "country": col(Organization.country),
    },
    default="name",
)


@dataclass(frozen=True)
class OrganizationFilters:
    q: str | None = None
    kind: str | None = None
    country: str | None = None
    parent_id: str | None = None


def organization_public(row: Organization) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "aliases": row.aliases,
        "kind": row.kind,
        "country": row.country,
        "city": row.city,
        "parent_id": row.parent_id,
        "description": row.description,
        "disputed": row.disputed,
    }


def list_organizations(
    *,
    session: Session,
    filters: OrganizationFilters,
    page: PageParams,
    include: frozenset[str] = frozenset(),
) -> tuple[list[dict[str, Any]], str | None]:
    statement = select(Organization)
    if filters.q is not None:
        statement = statement.where(search_condition(col(Organization.search_text), filters.q))
    if filters.kind is not None:
        statement = statement.where(Organization.kind == filters.kind)
    if filters.country is not None:
        statement = statement.where(Organization.country == filters.country)
    if filters.parent_id is not None:
        statement = statement.where(Organization.parent_id == filters.parent_id)
    rows, next_cursor = fetch_page(
        session, statement, spec=SORT, sort=page.sort, cursor=page.cursor, limit=page.limit
    )
    items = [organization_public(r) for r in rows]
    if "citations" in include:
        attach_citations(session, ENTITY, items)
    return items, next_cursor


def get_organization(*, session: Session, organization_id: str) -> dict[str, Any]:
    row = get_or_404(session, Organization, ENTITY, organization_id)
    item = organization_public(row)
    attach_citations(session, ENTITY, [item])
    return item
