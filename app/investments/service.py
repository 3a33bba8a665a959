"""Queries for investments and their participants."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, Row, Select, bindparam
from sqlmodel import Session, col, or_, select

from app.api import PageParams
from app.filtering import (
    SizedStatements,
    in_params,
    in_values,
    where_equal,
    where_in,
    where_null,
    where_range,
)
from app.listing import (
    SortSpec,
    fetch_page,
    filtered,
    read_cited_or_404,
    search_condition,
    shown_columns,
)
from app.models import Investment, InvestmentParticipant, Organization
from app.organizations.service import organizations_by_id
from app.reads import read_rows
from app.views import Embed, View, finish

ENTITY = "investment"
FIELDS = (
    "id",
    "name",
    "kind",
    "investors",
    "recipient_id",
    "amount_usd_min",
    "amount_usd_max",
    "amount_text",
    "amount_approximate",
    "announced_on",
    "announced_on_precision",
    "period",
    "purpose",
    "status",
    "description",
    "disputed",
)
COLUMNS = shown_columns(Investment)
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
EMBEDS = {"recipient": Embed("recipient", "recipient_id", organizations_by_id)}
INCLUDES = ("citations", "documents", "investors", *EMBEDS)


@dataclass(frozen=True)
class InvestmentFilters:
    q: str | None = None
    kind: tuple[str, ...] | None = None
    status: tuple[str, ...] | None = None
    investor_id: tuple[str, ...] | None = None
    investor_country: tuple[str, ...] | None = None
    recipient_id: tuple[str, ...] | None = None
    # Investments in which the organization takes part on either side.
    organization_id: str | None = None
    amount_usd_gte: int | None = None
    amount_usd_lte: int | None = None
    announced_from: dt.date | None = None
    announced_to: dt.date | None = None
    # The investments known on a date: announced on or before it (undated ones excluded).
    as_of: dt.date | None = None
    amount_null: bool | None = None
    recipient_id_null: bool | None = None
    announced_on_null: bool | None = None
    disputed: bool | None = None


def _investors(session: Session, ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if not ids:
        return found
    rows = read_rows(session, _INVESTORS(len(ids)), in_params("ids", ids))
    for row in rows:
        found[row.investment_id].append({"organization_id": row.organization_id, "role": row.role})
    return found


_PARTICIPANT = InvestmentParticipant.__table__.c  # type: ignore[attr-defined]
_INVESTORS = SizedStatements(
    lambda count: (
        select(_PARTICIPANT.investment_id, _PARTICIPANT.organization_id, _PARTICIPANT.role)
        .where(in_values(_PARTICIPANT.investment_id, "ids", count))
        .order_by(_PARTICIPANT.investment_id, _PARTICIPANT.position)
    )
)


def investment_public(
    row: Investment | Row[Any], investors: list[dict[str, Any]]
) -> dict[str, Any]:
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


def _participants_of(organization_ids: Any) -> Any:
    return col(Investment.id).in_(
        select(InvestmentParticipant.investment_id).where(
            col(InvestmentParticipant.organization_id).in_(organization_ids)
        )
    )


def _embed_investors(session: Session, items: list[dict[str, Any]]) -> None:
    ids = sorted({i["organization_id"] for item in items for i in item["investors"]})
    organizations = organizations_by_id(session, ids)
    for item in items:
        for investor in item["investors"]:
            investor["organization"] = organizations.get(investor["organization_id"])


def _investments_statement(session: Session, f: InvestmentFilters) -> Select[Any]:
    statement = select(*COLUMNS)
    if f.q is not None:
        statement = statement.where(search_condition(session, Investment, f.q))
    statement = where_in(statement, col(Investment.kind), f, "kind")
    statement = where_in(statement, col(Investment.status), f, "status")
    if f.investor_id is not None:
        investors: BindParameter[Any] = bindparam("investor_id", f.investor_id, expanding=True)
        statement = statement.where(_participants_of(investors))
    if f.investor_country is not None:
        countries: BindParameter[Any] = bindparam(
            "investor_country", f.investor_country, expanding=True
        )
        in_country = select(Organization.id).where(col(Organization.country).in_(countries))
        statement = statement.where(
            col(Investment.id).in_(
                select(InvestmentParticipant.investment_id).where(
                    col(InvestmentParticipant.organization_id).in_(in_country)
                )
            )
        )
    statement = where_in(statement, col(Investment.recipient_id), f, "recipient_id")
    if f.organization_id is not None:
        organization: BindParameter[Any] = bindparam("organization_id", f.organization_id)
        statement = statement.where(
            or_(
                col(Investment.id).in_(
                    select(InvestmentParticipant.investment_id).where(
                        col(InvestmentParticipant.organization_id) == organization
                    )
                ),
                col(Investment.recipient_id) == organization,
            )
        )
    # A range reaches a bound when any value in it could satisfy the bound.
    statement = where_range(statement, col(Investment.amount_usd_max), f, "amount_usd_gte", None)
    statement = where_range(statement, col(Investment.amount_usd_min), f, None, "amount_usd_lte")
    announced = col(Investment.announced_on)
    statement = where_range(statement, announced, f, "announced_from", "announced_to")
    statement = where_range(statement, announced, f, None, "as_of")
    statement = where_null(statement, col(Investment.amount_usd_min), f, "amount_null")
    statement = where_null(statement, col(Investment.recipient_id), f, "recipient_id_null")
    statement = where_null(statement, announced, f, "announced_on_null")
    return where_equal(statement, col(Investment.disputed), f, "disputed")


def list_investments(
    *,
    session: Session,
    filters: InvestmentFilters,
    page: PageParams,
    view: View = View(),
) -> tuple[list[dict[str, Any]], str | None]:
    query = filtered(
        "investments",
        filters,
        lambda: _investments_statement(session, filters),
    )
    rows, next_cursor = fetch_page(session, query, spec=SORT, page=page)
    investors = _investors(session, [r.id for r in rows])
    items = [investment_public(r, investors.get(r.id, [])) for r in rows]
    if "investors" in view.include:
        _embed_investors(session, items)
    return finish(session, items, entity=ENTITY, view=view, embeds=EMBEDS), next_cursor


def get_investment(*, session: Session, investment_id: str, view: View = View()) -> dict[str, Any]:
    row, cited = read_cited_or_404(session, Investment, ENTITY, ENTITY, investment_id)
    item = investment_public(row, _investors(session, [row.id]).get(row.id, []))
    if "investors" in view.include:
        _embed_investors(session, [item])
    return finish(
        session,
        [item],
        entity=ENTITY,
        view=view,
        embeds=EMBEDS,
        always_cite=True,
        cited={row.id: cited},
    )[0]
