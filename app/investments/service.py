"""Queries for investments and their participants."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, or_, select

from app.api import PageParams
from app.citations.service import attach_citations
from app.listing import SortSpec, fetch_page, get_or_404, search_condition
from app.models import Investment, InvestmentParticipant

ENTITY = "investment"
INCLUDES = ("citations",)
SORT = SortSpec(
    "investments",
    {
        "id": col(Investment.id),
        "name": col(Investment.name),
        "amount_usd_min": col(Investment.amount_usd_min),
        "amount_usd_max": col(Investment.amount_usd_max),
        "announced_on": col(Investment.announced_on),
    },
    default="id",
)


@dataclass(frozen=True)
class InvestmentFilters:
    q: str | None = None
    kind: str | None = None
    status: str | None = None
    investor_id: str | None = None
    recipient_id: str | None = None
    # Investments in which the organization takes part on either side.
    organization_id: str | None = None
    amount_usd_gte: int | None = None
    amount_usd_lte: int | None = None
    announced_from: dt.date | None = None
    announced_to: dt.date | None = None


def _investors(session: Session, ids: Sequence[str]) -> dict[str, list[dict[str, str]]]:
    found: dict[str, list[dict[str, str]]] = defaultdict(list)
    if not ids:
        return found
    statement = (
        select(InvestmentParticipant)
        .where(col(InvestmentParticipant.investment_id).in_(ids))
        .order_by(col(InvestmentParticipant.investment_id), col(InvestmentParticipant.position))
    )
    for row in session.exec(statement):
        found[row.investment_id].append({"organization_id": row.organization_id, "role": row.role})
    return found


def investment_public(row: Investment, investors: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "kind": row.kind,
        "investors": investors,
        "recipient_id": row.recipient_id,
        "amount_usd_min": row.amount_usd_min,
        "amount_usd_max": row.amount_usd_max,
        "amount_text": row.amount_text,
        "amount_approximate": row.amount_approximate,
        "announced_on": row.announced_on,
        "announced_on_precision": row.announced_on_precision,
        "period": row.period,
        "purpose": row.purpose,
        "status": row.status,
        "description": row.description,
        "disputed": row.disputed,
    }


def _participates(organization_id: str) -> Any:
    return col(Investment.id).in_(
        select(InvestmentParticipant.investment_id).where(
            InvestmentParticipant.organization_id == organization_id
        )
    )


def list_investments(
    *,
    session: Session,
    filters: InvestmentFilters,
    page: PageParams,
    include: frozenset[str] = frozenset(),
) -> tuple[list[dict[str, Any]], str | None]:
    statement = select(Investment)
    if filters.q is not None:
        statement = statement.where(search_condition(col(Investment.search_text), filters.q))
    if filters.kind is not None:
        statement = statement.where(Investment.kind == filters.kind)
    if filters.status is not None:
        statement = statement.where(Investment.status == filters.status)
    if filters.investor_id is not None:
        statement = statement.where(_participates(filters.investor_id))
    if filters.recipient_id is not None:
        statement = statement.where(Investment.recipient_id == filters.recipient_id)
    if filters.organization_id is not None:
        statement = statement.where(
            or_(
                _participates(filters.organization_id),
                Investment.recipient_id == filters.organization_id,
            )
        )
    # A range overlaps the bound when any value in it could satisfy the bound.
    if filters.amount_usd_gte is not None:
        statement = statement.where(col(Investment.amount_usd_max) >= filters.amount_usd_gte)
    if filters.amount_usd_lte is not None:
        statement = statement.where(col(Investment.amount_usd_min) <= filters.amount_usd_lte)
    if filters.announced_from is not None:
        statement = statement.where(col(Investment.announced_on) >= filters.announced_from)
    if filters.announced_to is not None:
        statement = statement.where(col(Investment.announced_on) <= filters.announced_to)
    rows, next_cursor = fetch_page(
        session, statement, spec=SORT, sort=page.sort, cursor=page.cursor, limit=page.limit
    )
    investors = _investors(session, [r.id for r in rows])
    items = [investment_public(r, investors.get(r.id, [])) for r in rows]
    if "citations" in include:
        attach_citations(session, ENTITY, items)
    return items, next_cursor


def get_investment(*, session: Session, investment_id: str) -> dict[str, Any]:
    row = get_or_404(session, Investment, ENTITY, investment_id)
    item = investment_public(row, _investors(session, [row.id]).get(row.id, []))
    attach_citations(session, ENTITY, [item])
    return item
