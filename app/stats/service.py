"""Aggregates computed by the database (GROUP BY, ORDER BY, LIMIT): five queries in all."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, Table, cast, extract, func, select
from sqlmodel import Session

from app.models import (
    AIModel,
    Chip,
    ChipSupport,
    Citation,
    Document,
    Investment,
    InvestmentParticipant,
    Organization,
)

LARGEST_MODELS = 10


def _t(model: Any) -> Table:
    table: Table = model.__table__
    return table


ORG, MODEL, INVESTMENT, PARTICIPANT = (
    _t(Organization),
    _t(AIModel),
    _t(Investment),
    _t(InvestmentParticipant),
)
_COUNTED = {
    "documents": _t(Document),
    "organizations": ORG,
    "models": MODEL,
    "chips": _t(Chip),
    "chip_support": _t(ChipSupport),
    "investments": INVESTMENT,
    "citations": _t(Citation),
}


def _int(value: Any) -> int:
    # PostgreSQL sums BIGINT as NUMERIC (a Decimal); the totals are whole dollars.
    return int(value)


def _totals(key: ColumnElement[Any]) -> Select[Any]:
    """count, count with an amount, and the sums of both ends (0 when none is known)."""
    return select(
        key.label("key"),
        func.count().label("investments"),
        func.count(INVESTMENT.c.amount_usd_min).label("with_amount"),
        func.coalesce(func.sum(INVESTMENT.c.amount_usd_min), 0).label("amount_usd_min"),
        func.coalesce(func.sum(INVESTMENT.c.amount_usd_max), 0).label("amount_usd_max"),
    )


def _totals_rows(session: Session, query: Select[Any], key: str) -> list[dict[str, Any]]:
    return [
        {
            key: row.key,
            "investments": row.investments,
            "with_amount": row.with_amount,
            "amount_usd_min": _int(row.amount_usd_min),
            "amount_usd_max": _int(row.amount_usd_max),
        }
        for row in session.execute(query)
    ]


def get_stats(*, session: Session) -> dict[str, Any]:
    counts_query = select(
        *(
            select(func.count()).select_from(table).scalar_subquery().label(name)
            for name, table in _COUNTED.items()
        )
    )
    counts = dict(session.execute(counts_query).one()._mapping)

    country = ORG.c.country
    models = func.count(MODEL.c.id)
    by_developer_country = session.execute(
        select(country.label("country"), models.label("models"))
        .select_from(MODEL.outerjoin(ORG, ORG.c.id == MODEL.c.developer_id))
        .group_by(country)
        .order_by(models.desc(), country.asc().nulls_last())
    )

    # Each (investment, investor country) once: two investors from one country count once.
    pairs = (
        select(PARTICIPANT.c.investment_id, ORG.c.country)
        .join(ORG, ORG.c.id == PARTICIPANT.c.organization_id)
        .distinct()
        .subquery()
    )
    total_max = func.coalesce(func.sum(INVESTMENT.c.amount_usd_max), 0)
    by_country = (
        _totals(pairs.c.country)
        .select_from(pairs.join(INVESTMENT, INVESTMENT.c.id == pairs.c.investment_id))
        .group_by(pairs.c.country)
        .order_by(total_max.desc(), pairs.c.country.asc().nulls_last())
    )

    # EXTRACT renders as EXTRACT(year FROM …) on PostgreSQL, CAST(STRFTIME('%Y', …)) on SQLite.
    year = cast(extract("year", INVESTMENT.c.announced_on), Integer)
    by_year = _totals(year).select_from(INVESTMENT).group_by(year).order_by(year.asc().nulls_last())

    largest = session.execute(
        select(
            MODEL.c.id,
            MODEL.c.name,
            MODEL.c.developer_id,
            MODEL.c.parameters,
            MODEL.c.active_parameters,
        )
        .where(MODEL.c.parameters.is_not(None))
        .order_by(MODEL.c.parameters.desc(), MODEL.c.id)
        .limit(LARGEST_MODELS)
    )
    return {
        "counts": counts,
        "models_by_developer_country": [dict(row._mapping) for row in by_developer_country],
        "investments_by_investor_country": _totals_rows(session, by_country, "country"),
        "investments_by_year": _totals_rows(session, by_year, "year"),
        "largest_models": [dict(row._mapping) for row in largest],
    }
