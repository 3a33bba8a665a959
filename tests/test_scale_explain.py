"""At scale (1,000,000 models by default; SCALE_MODELS sets it), every filter and every sort of
every collection is served by an index on PostgreSQL, and every search statement reads about
a page of rows.

The database is made by the migrations and filled by bench.scale (then analyzed). Each case
calls a collection's service function, as a request would, records every statement it sends,
and asks PostgreSQL for the plan of each (EXPLAIN with the same parameters, in the same
transaction). A case fails when a plan reads a large table with a Seq Scan. Sort cases, at the
first page and at a page deep in the list (the cursor of item 500,000, page 10,000 of 50),
must also read about as many rows as they return (EXPLAIN ANALYZE): an index in the list's
order, not a sort of everything before the page.

A filter that matches a large share of rows (a boolean, a common country) is not selective
enough for an index of its own: it is served by the index of the default sort, read in order
and filtered, which stops after a page of matches. Selective filters use their own index
(an index starting with the column: the sort indexes of migration 0004 double as filter
indexes). `disputed=true`, rare, has partial indexes in the default order.

Set SCALE_DATABASE_URL to an already filled database to run the cases without filling one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import Engine, event, func, select, text
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
from app.investments.service import SORT as INVESTMENT_SORT
from app.investments.service import InvestmentFilters, list_investments
from app.listing import SortSpec, encode_cursor, page_statement, parse_sort
from app.models import (
    AIModel,
    Chip,
    ChipSupport,
    Document,
    Investment,
    InvestmentParticipant,
    Organization,
)
from app.organizations.service import SORT as ORGANIZATION_SORT
from app.organizations.service import OrganizationFilters, list_organizations
from app.search.ddl import LATER_INDEX, PREFIX_INDEX, TRIGRAM_INDEX
from app.search.service import CANDIDATES, SUBSTRING_READ, search
from bench.scale import Counts, fill
from tests.conftest import PG_ADMIN_URL, DatabaseFactory

pytestmark = pytest.mark.skipif(
    not PG_ADMIN_URL, reason="query plans are PostgreSQL's: set TEST_DATABASE_URL"
)

MODELS = int(os.environ.get("SCALE_MODELS", "1000000"))
# Tables of fewer rows are cheaper to read whole than through an index, as the planner knows.
LARGE = 50_000
LIMIT = 50
DEEP = 500_000  # the first item of page 10,000
# A page reads at most this many rows per row it returns (index entries, rows filtered).
ROWS_READ_PER_ROW = 8


@dataclass(frozen=True)
class Collection:
    table: type[SQLModel]
    spec: SortSpec
    lister: Callable[..., tuple[list[dict[str, Any]], str | None]]
    filters: type[Any]


COLLECTIONS = {
    "organizations": Collection(
        Organization, ORGANIZATION_SORT, list_organizations, OrganizationFilters
    ),
    "models": Collection(AIModel, MODEL_SORT, list_models, ModelFilters),
    "chips": Collection(Chip, CHIP_SORT, list_chips, ChipFilters),
    "chip-support": Collection(
        ChipSupport, CHIP_SUPPORT_SORT, list_chip_support, ChipSupportFilters
    ),
    "investments": Collection(Investment, INVESTMENT_SORT, list_investments, InvestmentFilters),
    "documents": Collection(Document, DOCUMENT_SORT, list_documents, DocumentFilters),
}


@pytest.fixture(scope="module")
def engine(databases: DatabaseFactory) -> Iterator[Engine]:
    url = os.environ.get("SCALE_DATABASE_URL")
    if not url:
        url = databases.new_url("postgresql")
        started = time.perf_counter()
        report = fill(url, Counts.derive(MODELS), seed=0, console=Console(quiet=True))
        print(f"\nbench.scale: {MODELS:,} models in {time.perf_counter() - started:.1f} s")
        assert report.rows["ai_models"] == MODELS
    made = make_engine(Settings(database_url=url, statement_timeout_s=120))
    yield made
    made.dispose()


# --- plans ---------------------------------------------------------------------------------


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


def explain(session: Session, statement: str, parameters: Any, *, analyze: bool) -> dict[str, Any]:
    options = "ANALYZE, FORMAT JSON" if analyze else "FORMAT JSON"
    result = session.connection().exec_driver_sql(f"EXPLAIN ({options}) {statement}", parameters)
    plan: dict[str, Any] = result.scalar_one()[0]["Plan"]
    return plan


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def large_tables(session: Session) -> set[str]:
    rows = session.execute(
        text(
            "SELECT relname FROM pg_class WHERE relkind = 'r'"
            " AND relnamespace = 'public'::regnamespace AND reltuples >= :large"
        ),
        {"large": LARGE},
    )
    return {name for (name,) in rows}


def seq_scans(plan: dict[str, Any], large: set[str]) -> list[str]:
    return [
        n["Relation Name"]
        for n in nodes(plan)
        if n["Node Type"] == "Seq Scan" and n["Relation Name"] in large
    ]


def rows_read(plan: dict[str, Any]) -> float:
    """Rows the plan's scans produced or discarded (EXPLAIN ANALYZE), over all loops."""
    total = 0.0
    for node in nodes(plan):
        if "Scan" in node["Node Type"]:
            produced = node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
            produced += node.get("Rows Removed by Index Recheck", 0)
            total += produced * node["Actual Loops"]
    return total


@dataclass
class Run:
    items: list[dict[str, Any]]
    cursor: str | None
    statements: list[tuple[str, Any]]
    seconds: float


def run(engine: Engine, session: Session, collection: Collection, **options: Any) -> Run:
    filters = options.pop("filters", collection.filters())
    page = PageParams(
        limit=options.pop("limit", LIMIT),
        cursor=options.pop("cursor", None),
        sort=options.pop("sort", None),
    )
    with recorded(engine) as statements:
        started = time.perf_counter()
        items, cursor = collection.lister(session=session, filters=filters, page=page)
        seconds = time.perf_counter() - started
    return Run(items, cursor, statements, seconds)


def check_no_seq_scan(session: Session, statements: list[tuple[str, Any]]) -> None:
    large = large_tables(session)
    assert large >= {"ai_models", "search_names"}, "the database is not filled"
    for statement, parameters in statements:
        if not statement.lstrip().upper().startswith(("SELECT", "(")):
            continue
        plan = explain(session, statement, parameters, analyze=False)
        scanned = seq_scans(plan, large)
        assert not scanned, f"Seq Scan on {scanned} in:\n{statement}\n{parameters}"


# --- the values filters are tried with -----------------------------------------------------


def _top(session: Session, column: Any, *, last: bool = False) -> Any:
    """The most (or least) frequent non-null value of a column."""
    count = func.count()
    return session.execute(
        select(column)
        .where(column.is_not(None))
        .group_by(column)
        .order_by(count.asc() if last else count.desc(), column)
        .limit(1)
    ).scalar_one()


def _word(session: Session, table: type[SQLModel], column: str = "name") -> str:
    name: str = session.execute(
        select(getattr(table, column)).order_by(table.id).limit(1)  # type: ignore[attr-defined]
    ).scalar_one()
    return name.split(" ")[0]


@pytest.fixture(scope="module")
def values(engine: Engine) -> dict[str, Any]:
    with Session(engine) as session:
        return find_values(session)


def find_values(session: Session) -> dict[str, Any]:
    """Values of the data to filter by: the most and least frequent, names' first words."""
    return {
        "big_developer": _top(session, col(AIModel.developer_id)),
        "small_developer": _top(session, col(AIModel.developer_id), last=True),
        "parent": _top(session, col(Organization.parent_id)),
        "vendor": _top(session, col(Chip.vendor_id)),
        "model": _top(session, col(ChipSupport.model_id)),
        "chip": _top(session, col(ChipSupport.chip_id)),
        "rare_chip": _top(session, col(ChipSupport.chip_id), last=True),
        "support_vendor": _top(session, col(ChipSupport.vendor_id)),
        "investor": _top(session, col(InvestmentParticipant.organization_id)),
        "recipient": _top(session, col(Investment.recipient_id)),
        "model_word": _word(session, AIModel),
        "organization_word": _word(session, Organization),
        "chip_word": _word(session, Chip),
        "investment_word": _word(session, Investment),
        "document_word": _word(session, Document, "title"),
    }


def filter_cases(v: dict[str, Any]) -> dict[str, list[tuple[str, Any]]]:
    """Per collection, (label, filters) for every filter field, with common and rare values."""
    day = dt.date
    models: list[tuple[str, Any]] = [
        ("q prefix", ModelFilters(q=v["model_word"])),
        ("q typo", ModelFilters(q=v["model_word"][:-1] + "x" + v["model_word"][-1:])),
        ("developer_id big", ModelFilters(developer_id=(v["big_developer"],))),
        ("developer_id small", ModelFilters(developer_id=(v["small_developer"],))),
        ("developer_country", ModelFilters(developer_country=("CN", "FR"))),
        ("developer_country rare", ModelFilters(developer_country=("SA",))),
        ("open_weights", ModelFilters(open_weights=True)),
        ("reasoning", ModelFilters(reasoning=False)),
        ("parameters range", ModelFilters(parameters_gte=10**11, parameters_lte=5 * 10**11)),
        ("parameters_gte", ModelFilters(parameters_gte=900_000_000_000)),
        ("parameters_lte", ModelFilters(parameters_lte=2 * 10**9)),
        ("active_parameters",
         ModelFilters(active_parameters_gte=1, active_parameters_lte=2 * 10**10)),
        ("release_date",
         ModelFilters(release_date_from=day(2024, 1, 1), release_date_to=day(2024, 3, 31))),
        ("parameters_null", ModelFilters(parameters_null=True)),
        ("active_parameters_null", ModelFilters(active_parameters_null=False)),
        ("developer_id_null", ModelFilters(developer_id_null=True)),
        ("release_date_null", ModelFilters(release_date_null=True)),
        ("open_weights_null", ModelFilters(open_weights_null=True)),
        ("reasoning_null", ModelFilters(reasoning_null=False)),
        ("license_null", ModelFilters(license_null=False)),
        ("disputed", ModelFilters(disputed=True)),
        ("disputed false", ModelFilters(disputed=False)),
    ]  # fmt: skip
    organizations: list[tuple[str, Any]] = [
        ("q", OrganizationFilters(q=v["organization_word"])),
        ("kind", OrganizationFilters(kind=("lab", "university"))),
        ("country", OrganizationFilters(country=("IT",))),
        ("parent_id", OrganizationFilters(parent_id=(v["parent"],))),
        ("country_null", OrganizationFilters(country_null=True)),
        ("city_null", OrganizationFilters(city_null=False)),
        ("parent_id_null", OrganizationFilters(parent_id_null=False)),
        ("disputed", OrganizationFilters(disputed=True)),
    ]
    chips: list[tuple[str, Any]] = [
        ("q", ChipFilters(q=v["chip_word"])),
        ("vendor_id", ChipFilters(vendor_id=(v["vendor"],))),
        ("vendor_id_null", ChipFilters(vendor_id_null=True)),
        ("disputed", ChipFilters(disputed=True)),
    ]
    support: list[tuple[str, Any]] = [
        ("model_id", ChipSupportFilters(model_id=(v["model"],))),
        ("chip_id", ChipSupportFilters(chip_id=(v["chip"],))),
        ("chip_id rare", ChipSupportFilters(chip_id=(v["rare_chip"],))),
        ("vendor_id", ChipSupportFilters(vendor_id=(v["support_vendor"],))),
        ("relation", ChipSupportFilters(relation=("trained_on",))),
        ("announced",
         ChipSupportFilters(announced_from=day(2023, 5, 1), announced_to=day(2023, 5, 31))),
        ("as_of", ChipSupportFilters(as_of=day(2020, 3, 1))),
        ("chip_id_null", ChipSupportFilters(chip_id_null=True)),
        ("vendor_id_null", ChipSupportFilters(vendor_id_null=True)),
        ("announced_on_null", ChipSupportFilters(announced_on_null=True)),
        ("disputed", ChipSupportFilters(disputed=True)),
    ]  # fmt: skip
    investments: list[tuple[str, Any]] = [
        ("q", InvestmentFilters(q=v["investment_word"])),
        ("kind", InvestmentFilters(kind=("national_program",))),
        ("status", InvestmentFilters(status=("completed", "committed"))),
        ("investor_id", InvestmentFilters(investor_id=(v["investor"],))),
        ("investor_country", InvestmentFilters(investor_country=("AE",))),
        ("recipient_id", InvestmentFilters(recipient_id=(v["recipient"],))),
        ("organization_id", InvestmentFilters(organization_id=v["investor"])),
        ("amount_usd_gte", InvestmentFilters(amount_usd_gte=100_000_000_000)),
        ("amount_usd_lte", InvestmentFilters(amount_usd_lte=2_000_000)),
        ("announced",
         InvestmentFilters(announced_from=day(2025, 1, 1), announced_to=day(2025, 1, 31))),
        ("as_of", InvestmentFilters(as_of=day(2018, 2, 1))),
        ("amount_null", InvestmentFilters(amount_null=True)),
        ("recipient_id_null", InvestmentFilters(recipient_id_null=True)),
        ("announced_on_null", InvestmentFilters(announced_on_null=False)),
        ("disputed", InvestmentFilters(disputed=True)),
    ]  # fmt: skip
    documents: list[tuple[str, Any]] = [
        ("q", DocumentFilters(q=v["document_word"])),
        ("language", DocumentFilters(language=("zh",))),
        ("published",
         DocumentFilters(published_from=day(2022, 1, 1), published_to=day(2022, 2, 1))),
    ]  # fmt: skip
    return {
        "models": models,
        "organizations": organizations,
        "chips": chips,
        "chip-support": support,
        "investments": investments,
        "documents": documents,
    }


def test_every_filter_field_has_a_case(values: dict[str, Any]) -> None:
    for name, cases in filter_cases(values).items():
        tried = {
            f.name
            for _, filters in cases
            for f in dataclasses.fields(filters)
            if getattr(filters, f.name) is not None
        }
        fields = {f.name for f in dataclasses.fields(COLLECTIONS[name].filters)}
        assert tried == fields, f"{name}: no case for {sorted(fields - tried)}"


FILTERED = [
    (name, label)
    for name, labels in {
        "models": 22,
        "organizations": 8,
        "chips": 4,
        "chip-support": 11,
        "investments": 15,
        "documents": 3,
    }.items()
    for label in range(labels)
]


@pytest.mark.parametrize(("name", "index"), FILTERED, ids=[f"{n}-{i}" for n, i in FILTERED])
def test_filters_read_no_large_table_whole(
    engine: Engine, values: dict[str, Any], name: str, index: int
) -> None:
    label, filters = filter_cases(values)[name][index]
    collection = COLLECTIONS[name]
    timings = []
    with Session(engine) as session:
        for sort in (None, f"-{collection.spec.default}"):
            result = run(engine, session, collection, filters=filters, sort=sort)
            check_no_seq_scan(session, result.statements)
            timings.append(result.seconds)
        if result.cursor is not None:  # the next page, by keyset
            cursor = result.cursor
            result = run(engine, session, collection, filters=filters, cursor=cursor, sort=sort)
            check_no_seq_scan(session, result.statements)
            timings.append(result.seconds)
    shown = ", ".join(f"{t * 1000:.1f}" for t in timings)
    print(f"\n{name} {label}: {shown} ms (default order, descending, next page)")


# --- sorts ---------------------------------------------------------------------------------

SORTS = [
    (name, ("-" if descending else "") + field)
    for name, collection in COLLECTIONS.items()
    for field in collection.spec.fields
    for descending in (False, True)
]


def deep_cursor(session: Session, collection: Collection, sort: str) -> tuple[str, int]:
    """The cursor a client holds after page 10,000 (or after half the list, if shorter)."""
    keys = parse_sort(sort, collection.spec)
    total = int(session.execute(select(func.count()).select_from(collection.table)).scalar_one())
    position = min(DEEP, total // 2)
    statement = page_statement(
        sm_select(collection.table), spec=collection.spec, keys=keys, values=None, limit=1
    ).offset(position - 1)
    row = session.execute(statement).scalars().one()
    return encode_cursor(collection.spec, keys, row), position


def check_reads_a_page(session: Session, collection: Collection, result: Run) -> dict[str, Any]:
    """The page's plan reads about as many rows as it returns, through indexes (a table too
    small to count as large may be read whole: a few thousand rows are cheaper so)."""
    statement, parameters = result.statements[0]  # the page; then investors, embeds
    plan = explain(session, statement, parameters, analyze=True)
    if collection.table.__tablename__ in large_tables(session):
        read = rows_read(plan)
        assert read <= ROWS_READ_PER_ROW * (LIMIT + 1), f"{read:.0f} rows read:\n{statement}"
        assert not [n for n in nodes(plan) if n["Node Type"] == "Seq Scan"], statement
    return plan


@pytest.mark.parametrize(("name", "sort"), SORTS, ids=[f"{n}:{s}" for n, s in SORTS])
def test_sorts_read_a_page_at_any_depth(engine: Engine, name: str, sort: str) -> None:
    collection = COLLECTIONS[name]
    with Session(engine) as session:
        first = run(engine, session, collection, sort=sort)
        check_reads_a_page(session, collection, first)
        check_no_seq_scan(session, first.statements)
        cursor, position = deep_cursor(session, collection, sort)
        deep = run(engine, session, collection, sort=sort, cursor=cursor)
        assert len(deep.items) == LIMIT
        check_reads_a_page(session, collection, deep)
        check_no_seq_scan(session, deep.statements)
        # The deep page is the one after the cursor's item.
        keys = parse_sort(sort, collection.spec)
        following = page_statement(
            sm_select(collection.table), spec=collection.spec, keys=keys, values=None, limit=LIMIT
        ).offset(position)
        expected = [row.id for row in session.execute(following).scalars()]
        assert [item["id"] for item in deep.items] == expected
    print(
        f"\n{name} sort={sort}: first page {first.seconds * 1000:.1f} ms,"
        f" page after item {position:,} {deep.seconds * 1000:.1f} ms"
    )


def test_a_deep_cursor_is_an_index_scan_under_a_limit(engine: Engine) -> None:
    """Page 10,000 of the models, by name (the default): one range of the (name, id) index,
    from the cursor on, under the page's LIMIT."""
    collection = COLLECTIONS["models"]
    with Session(engine) as session:
        cursor, _ = deep_cursor(session, collection, "name")
        deep = run(engine, session, collection, cursor=cursor)
        plan = check_reads_a_page(session, collection, deep)
        assert plan["Node Type"] == "Limit"
        scan = plan["Plans"][0]
        assert scan["Node Type"] in ("Index Scan", "Index Only Scan")
        assert scan["Index Name"] == "ix_ai_models_name_id"
        assert "ROW(" in scan["Index Cond"]
        # Descending, with nulls: a merge of index ranges, each under the page's LIMIT.
        cursor, _ = deep_cursor(session, collection, "-parameters")
        deep = run(engine, session, collection, cursor=cursor, sort="-parameters")
        plan = check_reads_a_page(session, collection, deep)
        merges = [n for n in nodes(plan) if n["Node Type"] == "Merge Append"]
        assert merges
        for branch in merges[0]["Plans"]:
            while branch["Node Type"] == "Sort":  # of the branch's own page, at most
                assert branch["Actual Rows"] <= LIMIT + 1
                branch = branch["Plans"][0]
            assert branch["Node Type"] == "Limit"
            assert branch["Plans"][0]["Node Type"] in ("Index Scan", "Index Only Scan")
        first = run(engine, session, collection, sort="-parameters")
    print(
        f"\nmodels sort=-parameters: first page {first.seconds * 1000:.1f} ms,"
        f" page 10,000 {deep.seconds * 1000:.1f} ms"
    )


# --- search --------------------------------------------------------------------------------

# Rows a search statement may read (produced or discarded by a scan of a table, an index's
# entries that are returned, a CTE's rows): about a stage's CANDIDATES, the substrings read,
# one index probe per key length. An index's own entries behind a bitmap are not counted.
SEARCH_READS = SUBSTRING_READ + 4 * CANDIDATES


@pytest.fixture(scope="module")
def search_words(engine: Engine) -> tuple[str, str]:
    """The first word of the first model and chip (by id) named in Latin letters, 6 or more."""
    words = []
    with engine.connect() as connection:
        for table in ("ai_models", "chips"):
            name = connection.execute(
                text(
                    f"SELECT name FROM {table} WHERE name ~ '^[A-Za-z]{{6,}} ' ORDER BY id LIMIT 1"
                )
            ).scalar_one()
            words.append(str(name).split(" ")[0].lower())
    return words[0], words[1]


def search_cases(words: tuple[str, str]) -> list[tuple[str, str, list[str] | None]]:
    word, chip = words
    return [
        ("prefix", word[:4], None),  # the benchmark's kind: a page of prefix matches
        ("one letter", word[:1], None),
        ("typo", word[:-1] + "x" + word[-1:], None),
        ("two typos", word[1] + word[0] + word[2:-1] + "q", None),
        ("two words", f"{word} {chip}", None),
        ("no match", "zqxvj", None),
        ("one letter, chips", word[:1], ["chip"]),
        ("typo, chips", chip[:-1] + "x" + chip[-1:], ["chip"]),
        ("no match, documents", "zqxvj", ["document"]),
    ]


SEARCH_CASES = 9


def search_plans(
    engine: Engine, session: Session, q: str, types: list[str] | None
) -> list[tuple[str, dict[str, Any]]]:
    """The search's statements with their plans (EXPLAIN ANALYZE, in the search's own
    transaction: each pass's similarity threshold is set again, not explained)."""
    with recorded(engine) as statements:
        search(session=session, q=q, types=types, limit=20)
    plans = []
    for statement, parameters in statements:
        if "set_config" in statement:
            session.connection().exec_driver_sql(statement, parameters)
            continue
        plans.append((statement, explain(session, statement, parameters, analyze=True)))
    return plans


def search_reads(plan: dict[str, Any]) -> float:
    total = 0.0
    for node in nodes(plan):
        if "Scan" in node["Node Type"] and node["Node Type"] != "Bitmap Index Scan":
            produced = node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
            produced += node.get("Rows Removed by Index Recheck", 0)
            total += produced * node["Actual Loops"]
    return total


def index_names(plan: dict[str, Any]) -> set[str]:
    return {n["Index Name"] for n in nodes(plan) if "Index Name" in n}


@pytest.mark.parametrize("case", range(SEARCH_CASES))
def test_search_stages_read_about_a_page(
    engine: Engine, search_words: tuple[str, str], case: int
) -> None:
    """Every search statement is bounded in the rows it reads, whatever the query: the
    prefix stages are index-only probes per key length and type under the LIMIT, substrings
    and typos bitmap scans of the trigram index read as far as the LIMIT."""
    label, q, types = search_cases(search_words)[case]
    with Session(engine) as session:
        large = large_tables(session)
        started = time.perf_counter()
        hits = search(session=session, q=q, types=types, limit=20)
        seconds = time.perf_counter() - started
        plans = search_plans(engine, session, q, types)
    shown = []
    for statement, plan in plans:
        assert not seq_scans(plan, large), f"Seq Scan in:\n{statement}"
        reads = search_reads(plan)
        assert reads <= SEARCH_READS, f"{reads:.0f} rows read:\n{statement}"
        shown.append(f"{reads:.0f}")
    assert "generate_series" in plans[0][0]  # the first stage
    for statement, plan in plans:
        if "generate_series" in statement:  # a prefix stage: probes per length and type
            assert index_names(plan) & {PREFIX_INDEX, LATER_INDEX}, statement
            assert [n for n in nodes(plan) if n["Node Type"] == "Function Scan"]
            assert [n for n in nodes(plan) if n["Node Type"] == "Index Only Scan"]
        if "similar" in statement:  # a fuzzy pass
            assert TRIGRAM_INDEX in index_names(plan), statement
    print(
        f"\nsearch {label} ({q!r}): {len(hits)} hits in {seconds * 1000:.1f} ms,"
        f" {len(plans)} statements reading {', '.join(shown)} rows"
    )
