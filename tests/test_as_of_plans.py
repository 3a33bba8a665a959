"""An as_of page reads about one page of revisions, not its whole collection.

SQLite (the history of tests/test_as_of_sql.py; no statistics, as an application's database
usually has none): each page statement reads the sort's as_of index in order, with no sort of
its own (`USE TEMP B-TREE FOR ORDER BY`), unless a filter's index finds few rows.

PostgreSQL (bench.scale's synthetic data, SCALE_MODELS models, 20,000 by default, then
curation: a change of one model in 20, a delete of one in 200): EXPLAIN ANALYZE of every
statement of a page, first pages and pages at cursors anywhere in the list, now and at an
instant in the middle of the curation, with filters on common and rare values. No statement
reads revisions with a Seq Scan, and every page statement reads at most ROWS_READ_PER_ROW
revisions (index entries and rows, the probes of later revisions included) per row of the
page. Every indexed value has statistics that ANALYZE filled (of the partitions' expression
indexes, migration 0011).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import Engine, event, text
from sqlmodel import Session

from app.ai_models.service import ModelFilters
from app.api import PageParams
from app.chip_support.service import ChipSupportFilters
from app.config import Settings
from app.db import make_engine
from app.history import snapshot
from app.history.service import AS_OF_FILTERED, AS_OF_SORTED, PARTITIONS, as_of_index_entities
from app.history.snapshot import COLLECTIONS, list_at
from app.investments.service import InvestmentFilters
from app.listing import parse_sort
from app.organizations.service import OrganizationFilters
from bench.scale import Counts, fill
from tests.conftest import PG_ADMIN_URL, DatabaseFactory, migrated_engine
from tests.test_as_of_sql import HISTORY, LAST, write_history

LIMIT = 50
# The revisions as EXPLAIN names them: PostgreSQL reads their partitions (migration 0011).
REVISIONS = {"revisions", *PARTITIONS.values()}
ROWS_READ_PER_ROW = 10
MODELS = int(os.environ.get("SCALE_MODELS", "20000"))


@contextmanager
def recorded(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every statement sent through `engine` meanwhile, with its parameters."""
    statements: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, statement: str, parameters: Any, _x: Any, _m: Any) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def is_page(statement: str) -> bool:
    """A statement reading the page's rows (not a filter's probe, not an embed)."""
    return "FROM revisions AS recorded" in statement and "ORDER BY" in statement


def is_probe(statement: str) -> bool:
    return "FROM revisions AS recorded" in statement and "count(*)" in statement


@dataclass(frozen=True)
class Case:
    entity_type: str
    sort: str | None = None
    filters: object | None = None
    # Sort values past which to start (a cursor deep in the list), from the named revision.
    deep: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def page_of(
    engine: Engine, session: Session, case: Case, at: dt.datetime, cursor: str | None
) -> list[tuple[str, Any]]:
    page = PageParams(limit=LIMIT, cursor=cursor, sort=case.sort)
    with recorded(engine) as statements:
        list_at(
            session=session, entity_type=case.entity_type, at=at, filters=case.filters, page=page
        )
    return statements


def deep_cursor(session: Session, case: Case, at: dt.datetime) -> str:
    """A cursor at the sort values of the state of one revision (the middle one by item id):
    a point anywhere in the list, as deep as a cursor gets on average."""
    collection = COLLECTIONS[case.entity_type]
    keys = parse_sort(case.sort, collection.sort)
    row = session.execute(
        text(
            "SELECT state FROM revisions WHERE entity_type = :t AND action <> 'delete'"
            " ORDER BY entity_id LIMIT 1 OFFSET"
            " (SELECT count(*) / 2 FROM revisions WHERE entity_type = :t)"
        ),
        {"t": case.entity_type},
    ).scalar_one()
    state = row if isinstance(row, dict) else {}
    values = [state.get(k.name) for k in keys]
    return snapshot._encode_cursor(collection.sort, keys, at, values)


# --- SQLite: the shape of the plans ---------------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_engine(databases: DatabaseFactory) -> Iterator[Engine]:
    engine = migrated_engine(databases, "sqlite")
    write_history(engine, HISTORY)
    yield engine
    engine.dispose()


IN_ORDER = [
    Case("model"),
    Case("model", "-name"),
    Case("model", "-parameters"),
    Case("model", "release_date"),
    Case("model", "id"),
    Case("model", "-id"),
    Case("model", None, ModelFilters(open_weights=True, disputed=False)),
    Case("model", "-parameters", ModelFilters(parameters_gte=70)),
    Case("organization", "-country"),
    Case("chip_support", None, ChipSupportFilters(relation=("inference_support",))),
    Case("investment", "-amount_usd_max", InvestmentFilters(investor_id=("org-b",))),
]


def sqlite_plan(session: Session, statement: str, parameters: Any) -> list[str]:
    rows = session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
    return [str(row[3]) for row in rows]


@pytest.mark.parametrize("case", IN_ORDER, ids=lambda c: f"{c.entity_type}:{c.sort}")
def test_sqlite_reads_the_sort_index_in_order(sqlite_engine: Engine, case: Case) -> None:
    at = LAST + dt.timedelta(days=1)
    with Session(sqlite_engine) as session:
        statements = page_of(sqlite_engine, session, case, at, None)
        pages = [(s, p) for s, p in statements if is_page(s)]
        assert pages
        for statement, parameters in pages:
            plan = sqlite_plan(session, statement, parameters)
            assert not any("TEMP B-TREE" in line for line in plan), plan
            (scan,) = [line for line in plan if " recorded USING " in line]
            assert "USING INDEX ix_revisions_" in scan or "USING COVERING INDEX" in scan, plan


def test_sqlite_reads_a_selective_filter_by_its_index(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = Case("model", None, ModelFilters(developer_id=("org-a",)))
    at = LAST + dt.timedelta(days=1)
    with Session(sqlite_engine) as session:
        statements = page_of(sqlite_engine, session, case, at, None)
        plans = [sqlite_plan(session, s, p) for s, p in statements if is_page(s)]
        assert plans
        for plan in plans:
            assert any("ix_revisions_model_developer_id" in line for line in plan), plan
        # Past the probe's bound the filter is tested on the list's order instead.
        monkeypatch.setattr(snapshot, "_PROBE", 0)
        statements = page_of(sqlite_engine, session, case, at, None)
        plans = [sqlite_plan(session, s, p) for s, p in statements if is_page(s)]
        for plan in plans:
            assert any("ix_revisions_model_name_" in line for line in plan), plan
            assert not any("TEMP B-TREE" in line for line in plan), plan


# --- PostgreSQL: rows read at scale ---------------------------------------------------------

postgresql_only = pytest.mark.skipif(
    not PG_ADMIN_URL, reason="EXPLAIN ANALYZE is PostgreSQL's: set TEST_DATABASE_URL"
)
CURATED = dt.datetime(2025, 6, 1)  # bench.scale records everything on 2025-01-01
NOW = dt.datetime(2030, 1, 1)


@pytest.fixture(scope="module")
def scale_engine(databases: DatabaseFactory) -> Iterator[Engine]:
    url = databases.new_url("postgresql")
    fill(url, Counts.derive(MODELS), seed=0, console=Console(quiet=True), workers=1)
    engine = make_engine(Settings(database_url=url, statement_timeout_s=120))
    with engine.begin() as conn:
        # Curation after the load: changes and deletes of models, one second apart.
        columns = "entity_type, entity_id, revision, action, actor, recorded_at, diff, citations"
        conn.execute(
            text(
                f"INSERT INTO revisions ({columns}, state)"
                " SELECT entity_type, entity_id, 2, 'update', 'curator',"
                "  :at + (row_number() OVER (ORDER BY id)) * interval '1 second', '{}', '[]',"
                "  state || jsonb_build_object('name', (state ->> 'name') || ' bis',"
                "   'parameters', (state ->> 'parameters')::bigint * 2)"
                " FROM revisions WHERE entity_type = 'model' AND id % 20 = 0"
            ),
            {"at": CURATED},
        )
        conn.execute(
            text(
                f"INSERT INTO revisions ({columns}, state)"
                " SELECT entity_type, entity_id, 3, 'delete', 'curator',"
                "  :at + (row_number() OVER (ORDER BY id)) * interval '1 second', '{}', '[]',"
                "  'null'::jsonb"
                " FROM revisions WHERE entity_type = 'model' AND id % 200 = 7"
            ),
            {"at": CURATED},
        )
    with engine.connect() as conn:
        conn.execute(text("ANALYZE revisions"))
        conn.commit()
    yield engine
    engine.dispose()


def explain(session: Session, statement: str, parameters: Any) -> dict[str, Any]:
    result = session.connection().exec_driver_sql(
        f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters
    )
    plan: dict[str, Any] = result.scalar_one()[0]["Plan"]
    return plan


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def rows_read(plan: dict[str, Any]) -> float:
    """Rows the plan's scans of revisions produced or discarded, over all loops."""
    total = 0.0
    for node in nodes(plan):
        if "Scan" in node["Node Type"] and node.get("Relation Name") in REVISIONS:
            produced = node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
            produced += node.get("Rows Removed by Index Recheck", 0)
            total += produced * node["Actual Loops"]
    return total


def common(session: Session, sql: str) -> str:
    return str(session.execute(text(sql)).scalar_one())


SCALE = [
    Case("model"),
    Case("model", deep=True),
    Case("model", "-parameters", deep=True),
    Case("model", "release_date"),
    Case("model", "-release_date", deep=True),
    Case("model", "developer_id", deep=True),
    Case("model", "id", deep=True),
    Case("model", None, ModelFilters(open_weights=True)),
    Case("model", "-parameters", ModelFilters(parameters_gte=10**11), deep=True),
    Case("model", None, extra={"developer": "most"}),
    Case("model", "-parameters", extra={"developer": "fewest"}),
    Case("model", None, extra={"developer_country": "most"}),
    Case("organization", None, extra={"country": "most"}),
    Case("chip_support", None, deep=True),
    Case("chip_support", "-announced_on", deep=True),
    Case("investment", "-amount_usd_max"),
    Case("investment", "announced_on", deep=True),
    Case("document", "-published_on"),
]


def resolved(session: Session, case: Case) -> Case:
    """The case with its filters on the data's most or least common values."""
    if "developer" in case.extra:
        order = "DESC" if case.extra["developer"] == "most" else "ASC"
        developer = common(
            session,
            "SELECT developer_id FROM ai_models WHERE developer_id IS NOT NULL"
            f" GROUP BY developer_id ORDER BY count(*) {order}, developer_id LIMIT 1",
        )
        return Case(case.entity_type, case.sort, ModelFilters(developer_id=(developer,)))
    if "developer_country" in case.extra:
        country = common(
            session,
            "SELECT o.country FROM ai_models m JOIN organizations o ON o.id = m.developer_id"
            " WHERE o.country IS NOT NULL GROUP BY o.country ORDER BY count(*) DESC LIMIT 1",
        )
        return Case(case.entity_type, case.sort, ModelFilters(developer_country=(country,)))
    if "country" in case.extra:
        country = common(
            session,
            "SELECT country FROM organizations WHERE country IS NOT NULL"
            " GROUP BY country ORDER BY count(*) DESC LIMIT 1",
        )
        return Case(case.entity_type, case.sort, OrganizationFilters(country=(country,)))
    return case


@postgresql_only
@pytest.mark.parametrize("at", [NOW, CURATED + dt.timedelta(seconds=300)], ids=["now", "then"])
@pytest.mark.parametrize(
    "case",
    SCALE,
    ids=lambda c: f"{c.entity_type}:{c.sort}:{type(c.filters).__name__}:{c.extra}:{c.deep}",
)
def test_a_page_reads_about_a_page(scale_engine: Engine, case: Case, at: dt.datetime) -> None:
    with Session(scale_engine) as session:
        case = resolved(session, case)
        total = int(common(session, "SELECT count(*) FROM revisions"))
        sizes = {
            str(name): int(count)
            for name, count in session.execute(
                text("SELECT tableoid::regclass::text, count(*) FROM revisions GROUP BY 1")
            )
        }
        bound = ROWS_READ_PER_ROW * (LIMIT + 1)
        cursor = deep_cursor(session, case, at) if case.deep else None
        statements = page_of(scale_engine, session, case, at, cursor)
        pages = [(s, p) for s, p in statements if is_page(s)]
        assert pages
        returned = 0
        for statement, parameters in statements:
            if not (is_page(statement) or is_probe(statement)):
                continue
            plan = explain(session, statement, parameters)
            scans = [n for n in nodes(plan) if n.get("Relation Name") in REVISIONS]
            assert scans, plan
            # A partition smaller than a page's bound may be read whole.
            large = [n["Node Type"] for n in scans if sizes[n["Relation Name"]] > bound]
            assert "Seq Scan" not in large, (statement, large)
            read = rows_read(plan)
            assert read <= bound, (statement, read)
            if is_page(statement):
                returned += plan["Actual Rows"]
        assert returned > 0
        assert total / 20 > bound, "the data is too small to tell"


# --- the indexes and statistics cover every field ---------------------------------------------


def test_every_sortable_field_has_its_as_of_indexes() -> None:
    for entity, collection in COLLECTIONS.items():
        sortable = set(collection.sort.fields) - {"id"}
        assert {name for name, _ in AS_OF_SORTED[entity]} == sortable, entity
        for name, number in AS_OF_SORTED[entity]:
            assert number == collection.is_number(name), (entity, name)
        for name in AS_OF_FILTERED.get(entity, ()):
            assert name in collection.filters or any(name in f for f in collection.filters)
            assert not collection.is_number(name)


@postgresql_only
def test_every_indexed_value_has_statistics(scale_engine: Engine) -> None:
    indexes = as_of_index_entities()
    with Session(scale_engine) as session:
        # The as_of indexes are their partitions' own, without a predicate (migration 0011):
        # PostgreSQL keeps statistics of each one's expression.
        made = session.scalars(
            text(
                "SELECT tablename FROM pg_stats WHERE schemaname = 'public'"
                " AND tablename = ANY(:names)"
            ),
            {"names": list(indexes)},
        ).all()
        # A `_desc` twin keeps none: they would be its twin's again.
        assert sorted(made) == sorted(name for name in indexes if not name.endswith("_desc"))
        # ANALYZE filled them: PostgreSQL estimates a common value's rows within a factor 2.
        developer = common(
            session,
            "SELECT developer_id FROM ai_models WHERE developer_id IS NOT NULL"
            " GROUP BY developer_id ORDER BY count(*) DESC, developer_id LIMIT 1",
        )
        actual = int(
            common(session, f"SELECT count(*) FROM ai_models WHERE developer_id = '{developer}'")
        )
        plan = session.execute(
            text(
                "EXPLAIN (FORMAT JSON) SELECT 1 FROM revisions"
                " WHERE entity_type = 'model' AND (state ->> 'developer_id') = :d"
            ),
            {"d": developer},
        ).scalar_one()[0]["Plan"]
        assert actual / 2 <= plan["Plan Rows"] <= actual * 2, (plan["Plan Rows"], actual)
