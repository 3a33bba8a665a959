"""bench.scale on both databases, at a small size: what it stores is what the write path would
have stored (search names, search text, revisions, citations, documents), the same seed gives
the same rows on SQLite and PostgreSQL, and keyset pages over its skewed, null-rich data
follow the list's full order for every sort field in both directions."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import Engine, func, select, text
from sqlmodel import Session, SQLModel, col
from sqlmodel import select as sm_select

from app.ai_models.service import SORT as MODEL_SORT
from app.ai_models.service import ModelFilters, list_models
from app.api import PageParams
from app.chip_support.service import SORT as CHIP_SUPPORT_SORT
from app.chip_support.service import ChipSupportFilters, list_chip_support
from app.chips.service import SORT as CHIP_SORT
from app.chips.service import ChipFilters, list_chips
from app.config import Settings
from app.db import make_engine
from app.documents.service import SORT as DOCUMENT_SORT
from app.documents.service import DocumentFilters, list_documents
from app.history.service import current_state, diff_states
from app.investments.service import SORT as INVESTMENT_SORT
from app.investments.service import InvestmentFilters, list_investments
from app.listing import SortSpec, page_statement, parse_sort
from app.migrate import upgrade
from app.models import (
    AIModel,
    Chip,
    ChipSupport,
    Citation,
    Document,
    Investment,
    Organization,
    Revision,
    SearchName,
    metadata,
)
from app.organizations.service import SORT as ORGANIZATION_SORT
from app.organizations.service import OrganizationFilters, list_organizations
from app.search.names import name_rows
from app.text import repair_text, search_key
from bench.scale import TABLES, Counts, fill
from tests.conftest import PG_ADMIN_URL, DatabaseFactory

COUNTS = Counts.derive(3000)
SEED = 7
QUIET = Console(quiet=True)


@pytest.fixture(scope="module")
def scale_engine(databases: DatabaseFactory, backend: str) -> Iterator[Engine]:
    url = databases.new_url(backend)
    fill(url, COUNTS, seed=SEED, console=QUIET, workers=1)
    engine = make_engine(Settings(database_url=url))
    yield engine
    engine.dispose()


def _count(session: Session, table: type[SQLModel]) -> int:
    return int(session.exec(sm_select(func.count()).select_from(table)).one())


def test_every_collection_has_its_count(scale_engine: Engine) -> None:
    with Session(scale_engine) as session:
        assert _count(session, AIModel) == COUNTS.models
        assert _count(session, Organization) == COUNTS.organizations
        assert _count(session, Chip) == COUNTS.chips
        assert _count(session, ChipSupport) == COUNTS.chip_support
        assert _count(session, Investment) == COUNTS.investments
        assert _count(session, Document) == COUNTS.documents
        items = COUNTS.models + COUNTS.organizations + COUNTS.chips + COUNTS.chip_support
        items += COUNTS.investments + COUNTS.documents
        assert _count(session, Revision) == items, "one revision per item"
        if scale_engine.dialect.name == "sqlite":
            assert session.connection().exec_driver_sql("PRAGMA foreign_key_check").all() == []


def test_the_data_has_the_shapes_of_the_landscape(scale_engine: Engine) -> None:
    with Session(scale_engine) as session:
        per_developer = sorted(
            session.exec(
                sm_select(func.count())
                .select_from(AIModel)
                .where(col(AIModel.developer_id).is_not(None))
                .group_by(col(AIModel.developer_id))
            ).all(),
            reverse=True,
        )
        # A few developers with very many models, a long tail with one or two.
        assert per_developer[0] >= 30 * per_developer[len(per_developer) // 2]
        ranges = session.exec(
            sm_select(func.count())
            .select_from(Investment)
            .where(col(Investment.amount_usd_min) < col(Investment.amount_usd_max))
        ).one()
        assert ranges > COUNTS.investments // 10
        for column in (AIModel.parameters, AIModel.release_date, AIModel.developer_id):
            nulls = session.exec(
                sm_select(func.count()).select_from(AIModel).where(col(column).is_(None))
            ).one()
            assert 0 < nulls < COUNTS.models
        names = list(session.execute(select(col(SearchName.name))).scalars())
        for sample in ("é", "è", "à", "智", "Pensée", "Ragionamento"):
            assert any(sample in name for name in names), sample


SAMPLE = 40  # items of each kind checked against what the app computes


def _sample_ids(session: Session, table: type[SQLModel]) -> list[str]:
    id_column = table.id  # type: ignore[attr-defined]
    rows = session.exec(sm_select(id_column).order_by(func.length(id_column), id_column))
    return list(rows.all())[:: max(1, _count(session, table) // SAMPLE)]


KINDS: list[tuple[str, type[SQLModel]]] = [
    ("organization", Organization),
    ("model", AIModel),
    ("chip", Chip),
    ("chip_support", ChipSupport),
    ("investment", Investment),
    ("document", Document),
]


def test_revisions_hold_what_the_write_path_records(scale_engine: Engine) -> None:
    with Session(scale_engine) as session:
        for entity_type, table in KINDS:
            for entity_id in _sample_ids(session, table):
                revision = session.exec(
                    sm_select(Revision).where(
                        Revision.entity_type == entity_type, Revision.entity_id == entity_id
                    )
                ).one()
                state = current_state(session, entity_type, entity_id)
                assert revision.state == state, (entity_type, entity_id)
                assert revision.diff == diff_states(None, state)
                assert (revision.revision, revision.action, revision.actor) == (1, "create", "seed")
                given = [
                    {k: c[k] for k in sorted(c)} for c in revision.citations
                ]  # the resolved form: the same keys as a served citation
                assert given == [{k: c[k] for k in sorted(c)} for c in state.get("citations", [])]


def test_search_names_and_text_are_the_write_paths(scale_engine: Engine) -> None:
    with Session(scale_engine) as session:
        for entity_type, table in KINDS:
            if table is ChipSupport:
                continue
            for entity_id in _sample_ids(session, table):
                row: Any = session.get(table, entity_id)
                names = (
                    [row.title] if table is Document else [row.name, *getattr(row, "aliases", [])]
                )
                stored = [
                    {
                        "entity_type": r.entity_type,
                        "entity_id": r.entity_id,
                        "name": r.name,
                        "is_primary": r.is_primary,
                        "word": r.word,
                        "key": r.key,
                        "grams": r.grams,
                    }
                    for r in session.exec(
                        sm_select(SearchName)
                        .where(
                            SearchName.entity_type == entity_type,
                            SearchName.entity_id == entity_id,
                        )
                        .order_by(col(SearchName.id))
                    )
                ]
                assert stored == name_rows(entity_type, entity_id, names), (entity_type, entity_id)
                expected = search_key(names[0], names[1:] or None)
                assert row.search_text == expected


def test_citations_quote_their_documents(scale_engine: Engine) -> None:
    with Session(scale_engine) as session:
        texts: dict[str, str] = {
            row[0]: row[1] for row in session.execute(select(col(Document.id), col(Document.text)))
        }
        disputing: set[tuple[str, str]] = set()
        for citation in session.exec(sm_select(Citation)):
            assert texts[citation.document_id][citation.start : citation.end] == citation.quote
            if citation.stance == "dispute":
                disputing.add((citation.entity_type, citation.entity_id))
        for entity_type, table in KINDS[:-1]:
            disputed = {
                (entity_type, i)
                for i in session.exec(
                    sm_select(table.id).where(table.disputed)  # type: ignore[attr-defined]
                )
            }
            assert disputed == {d for d in disputing if d[0] == entity_type}
        for document in session.exec(sm_select(Document)):
            assert repair_text(document.text) == document.text
            assert hashlib.sha256(document.text.encode()).hexdigest() == document.sha256


@pytest.mark.skipif(not PG_ADMIN_URL, reason="compares SQLite with PostgreSQL")
def test_the_same_seed_gives_the_same_rows_on_both_databases(
    databases: DatabaseFactory,
) -> None:
    counts = Counts.derive(800)
    engines = []
    for backend in ("sqlite", "postgresql"):
        url = databases.new_url(backend)
        fill(url, counts, seed=SEED, console=QUIET, workers=2)
        engines.append(make_engine(Settings(database_url=url)))
    try:
        for table_name in TABLES:
            table = metadata.tables[table_name]
            order = list(table.primary_key.columns)
            found = []
            for engine in engines:
                with engine.connect() as connection:
                    found.append(connection.execute(select(table).order_by(*order)).all())
            assert found[0] == found[1], table_name
            assert found[0], table_name
    finally:
        for engine in engines:
            engine.dispose()


# --- keyset pages --------------------------------------------------------------------------

Lister = Callable[..., tuple[list[dict[str, Any]], str | None]]
COLLECTIONS: list[tuple[type[SQLModel], SortSpec, Lister, Any]] = [
    (Organization, ORGANIZATION_SORT, list_organizations, OrganizationFilters()),
    (AIModel, MODEL_SORT, list_models, ModelFilters()),
    (Chip, CHIP_SORT, list_chips, ChipFilters()),
    (ChipSupport, CHIP_SUPPORT_SORT, list_chip_support, ChipSupportFilters()),
    (Investment, INVESTMENT_SORT, list_investments, InvestmentFilters()),
    (Document, DOCUMENT_SORT, list_documents, DocumentFilters()),
]
SORT_CASES = [
    pytest.param(table, spec, lister, filters, sort, id=f"{spec.collection}:{sort}")
    for table, spec, lister, filters in COLLECTIONS
    for field in spec.fields
    for sort in (field, f"-{field}")
] + [
    pytest.param(AIModel, MODEL_SORT, list_models, ModelFilters(), s, id=f"models:{s}")
    for s in ("developer_id,-parameters", "-release_date,name", "parameters,-active_parameters")
]


def _walk(session: Session, lister: Lister, filters: Any, sort: str, limit: int) -> list[str]:
    ids: list[str] = []
    cursor: str | None = None
    while True:
        items, cursor = lister(
            session=session, filters=filters, page=PageParams(limit=limit, cursor=cursor, sort=sort)
        )
        ids.extend(item["id"] for item in items)
        if cursor is None:
            return ids
        assert len(items) == limit


def _full_order(session: Session, table: type[SQLModel], spec: SortSpec, sort: str) -> list[str]:
    keys = parse_sort(sort, spec)
    statement = page_statement(sm_select(table), spec=spec, keys=keys, values=None, limit=10**9)
    return [row.id for row in session.execute(statement).scalars()]


@pytest.mark.parametrize(("table", "spec", "lister", "filters", "sort"), SORT_CASES)
def test_keyset_pages_follow_the_full_order(
    scale_engine: Engine,
    table: type[SQLModel],
    spec: SortSpec,
    lister: Lister,
    filters: Any,
    sort: str,
) -> None:
    with Session(scale_engine) as session:
        expected = _full_order(session, table, spec, sort)
        walked = _walk(session, lister, filters, sort, limit=97)
    assert walked == expected
    assert len(expected) == len(set(expected))


def _values_in_order(
    session: Session, table: type[SQLModel], field: str, ids: list[str]
) -> list[Any]:
    id_column: Any = table.id  # type: ignore[attr-defined]
    found: dict[str, Any] = {
        row[0]: row[1] for row in session.execute(select(id_column, getattr(table, field)))
    }
    return [found[i] for i in ids]


@pytest.mark.parametrize(
    ("table", "spec", "field"),
    [
        (AIModel, MODEL_SORT, "parameters"),
        (AIModel, MODEL_SORT, "release_date"),
        (ChipSupport, CHIP_SUPPORT_SORT, "announced_on"),
        (Investment, INVESTMENT_SORT, "amount_usd_max"),
    ],
)
def test_nulls_last_and_ties_by_id_in_both_directions(
    scale_engine: Engine, table: type[SQLModel], spec: SortSpec, field: str
) -> None:
    with Session(scale_engine) as session:
        for descending in (False, True):
            ids = _full_order(session, table, spec, ("-" if descending else "") + field)
            values = _values_in_order(session, table, field, ids)
            keyed = list(zip(values, ids, strict=True))
            present = [(v, i) for v, i in keyed if v is not None]
            nulls = [i for v, i in keyed if v is None]
            assert nulls, "the data has nulls in this field"
            assert keyed[: len(present)] == present, "nulls come last"
            assert [i for _, i in keyed[len(present) :]] == sorted(nulls)
            by_value = sorted(present, key=lambda p: p[1])  # ties by id ascending...
            by_value.sort(key=lambda p: p[0], reverse=descending)  # ...in either direction
            assert present == by_value


def test_a_filter_composes_with_deep_keyset_pages(scale_engine: Engine) -> None:
    with Session(scale_engine) as session:
        developer = session.execute(
            select(col(AIModel.developer_id))
            .where(col(AIModel.developer_id).is_not(None))
            .group_by(col(AIModel.developer_id))
            .order_by(func.count().desc(), col(AIModel.developer_id))
            .limit(1)
        ).scalar_one()
        filters = ModelFilters(developer_id=(developer,), open_weights_null=False)
        for sort in ("-parameters", "name", "-release_date"):
            walked = _walk(session, list_models, filters, sort, limit=7)
            expected = [
                i
                for i in _full_order(session, AIModel, MODEL_SORT, sort)
                if session.get(AIModel, i).developer_id == developer  # type: ignore[union-attr]
                and session.get(AIModel, i).open_weights is not None  # type: ignore[union-attr]
            ]
            assert walked == expected
            assert len(walked) > 20


def test_filling_a_database_that_holds_data_is_refused(scale_engine: Engine) -> None:
    from bench.scale import NotEmpty

    with pytest.raises(NotEmpty):
        fill(scale_engine.url.render_as_string(hide_password=False), COUNTS, console=QUIET)
    with scale_engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM ai_models")).scalar_one()
    assert count == COUNTS.models


def _schema(engine: Engine) -> set[tuple[str, ...]]:
    """Every index and constraint, as the database describes it."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.execute(
                text("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_stat%'")
            )
        else:
            rows = connection.execute(
                text(
                    "SELECT 'index', indexname, indexdef FROM pg_indexes"
                    " WHERE schemaname = 'public'"
                    " UNION ALL SELECT 'constraint', conname, pg_get_constraintdef(oid)"
                    " FROM pg_constraint WHERE connamespace = 'public'::regnamespace"
                    # The statistics targets set on columns (none in the definitions).
                    " UNION ALL SELECT 'statistics', attrelid::regclass::text || '.' || attname,"
                    " attstattarget::text FROM pg_attribute a JOIN pg_class c"
                    " ON c.oid = a.attrelid WHERE c.relnamespace = 'public'::regnamespace"
                    " AND a.attstattarget >= 0"
                )
            )
        return {tuple(str(value) for value in row) for row in rows}


def test_the_schema_after_a_fill_is_the_migrations(
    scale_engine: Engine, databases: DatabaseFactory, backend: str
) -> None:
    # The PostgreSQL sink drops indexes and keys for the load and keeps a few of the
    # revisions' partial indexes through it: every one must be back as the migrations made it.
    migrated = make_engine(Settings(database_url=databases.new_url(backend)))
    try:
        upgrade(migrated)
        assert _schema(scale_engine) == _schema(migrated)
    finally:
        migrated.dispose()
