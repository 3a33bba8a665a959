"""Stream the whole dataset in keyset-ordered chunks, with memory bounded by one chunk.

Each chunk is one query for its rows (`WHERE id > :last ORDER BY id LIMIT n`) plus one for
their citations (and one for the investors of investments), however large the tables are.
The whole export reads one snapshot: a REPEATABLE READ, read-only transaction on PostgreSQL,
one read transaction on SQLite (WAL), so a write during a long export cannot tear it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    FromClause,
    Integer,
    Select,
    Table,
    and_,
    case,
    func,
    literal,
    or_,
    select,
)

from app.curation.service import Collection
from app.export.format import (
    CITATION_FIELDS,
    DOCUMENT,
    DOCUMENT_FIELDS,
    FACTS,
    FOOTER,
    FORMAT,
    HEADER,
    INVESTOR_FIELDS,
    VERSION,
    fact_fields,
)
from app.jsonutil import dumps
from app.models import Citation, Document, InvestmentParticipant, Organization

# Rows per query. Documents carry their texts (up to 2 MB each, twice), so fewer per query.
FACT_CHUNK = 1000
DOCUMENT_CHUNK = 16
# Organizations up to this many parents below a root are ordered by joins, deeper ones by a
# recursive query; chains longer than _MAX_ORG_DEPTH are taken for cycles (the write path
# refuses them), which only guarantees that query ends.
_JOIN_DEPTH = 8
_MAX_ORG_DEPTH = 64

Record = dict[str, Any]


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


def _line(record_type: str, data: Record) -> bytes:
    return dumps({"type": record_type, "data": data}) + b"\n"


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """One connection reading one consistent state of the database."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        conn.begin()
        raw = conn.connection.dbapi_connection
        if conn.dialect.name == "sqlite" and not getattr(raw, "in_transaction", True):
            # pysqlite opens no transaction for reads; one explicit BEGIN pins a WAL snapshot.
            conn.exec_driver_sql("BEGIN")
        try:
            yield conn
        finally:
            conn.rollback()


def _unindexed(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """The same condition in a form no index matches (`parent_id IS NULL` would pick the
    parent_id index): the scan then follows the keyset's primary key and stops at LIMIT,
    instead of reading every match of the whole table to sort them, chunk after chunk."""
    return case((condition, 1), else_=0) == 1


def _keyset(conn: Connection, query: Select[Any], key: Any, size: int) -> Iterator[list[Any]]:
    """Rows of `query` in chunks, ordered by the unique column `key`."""
    last: Any = None
    while True:
        page = query if last is None else query.where(key > last)
        rows = list(conn.execute(page.order_by(key).limit(size)))
        if not rows:
            return
        yield rows
        if len(rows) < size:
            return
        last = rows[-1]._mapping[key.name]


def _children(
    conn: Connection, query: Select[Any], owner: Any, ids: Sequence[str], fields: Sequence[str]
) -> dict[str, list[Record]]:
    """The ordered children (citations, investors) of a chunk of ids, in one query."""
    found: dict[str, list[Record]] = defaultdict(list)
    for row in conn.execute(query.where(owner.in_(ids))):
        mapping = row._mapping
        found[mapping[owner.name]].append({name: mapping[name] for name in fields})
    return found


def _documents(conn: Connection) -> Iterator[list[Record]]:
    table = _table(Document)
    query = select(*(table.c[name] for name in DOCUMENT_FIELDS))
    for rows in _keyset(conn, query, table.c.id, DOCUMENT_CHUNK):
        yield [dict(row._mapping) for row in rows]


def _organization_chunks(conn: Connection, query: Select[Any]) -> Iterator[list[Any]]:
    """Organizations with parents first: by depth (roots, their children, ...), then by id.

    Depth k is a join k parents up to a root, so each level is a plain keyset scan by id:
    linear in the table, whatever the number of children. Rows deeper than _JOIN_DEPTH (or in
    a parent cycle, which the write path refuses) come last, ordered by a recursive query.
    """
    org = _table(Organization)
    total = conn.execute(select(func.count()).select_from(org)).scalar_one()
    emitted = 0
    level = query.where(_unindexed(org.c.parent_id.is_(None)))
    for depth in range(_JOIN_DEPTH + 1):
        found = 0
        for rows in _keyset(conn, level, org.c.id, FACT_CHUNK):
            found += len(rows)
            yield rows
        emitted += found
        if emitted >= total:
            return
        if not found:
            break  # the rest hang below a parent cycle
        level = query
        child: FromClause = org
        for step in range(depth + 1):
            parent = org.alias(f"parent_{step}")
            level = level.join(parent, parent.c.id == child.c.parent_id)
            child = parent
        level = level.where(_unindexed(child.c.parent_id.is_(None)))
    yield from _deep_organizations(conn, query)


def _deep_organizations(conn: Connection, query: Select[Any]) -> Iterator[list[Any]]:
    """Organizations more than _JOIN_DEPTH parents below a root, by (depth, id)."""
    org = _table(Organization)
    up = (
        select(org.c.id, org.c.parent_id.label("ancestor"), literal(1, Integer).label("depth"))
        .where(org.c.parent_id.is_not(None))
        .cte("up", recursive=True)
    )
    parent = org.alias("parent")
    up = up.union_all(
        select(up.c.id, parent.c.parent_id, up.c.depth + 1)
        .join(parent, parent.c.id == up.c.ancestor)
        .where(parent.c.parent_id.is_not(None), up.c.depth < _MAX_ORG_DEPTH)
    )
    depths = (
        select(up.c.id, func.max(up.c.depth).label("depth"))
        .group_by(up.c.id)
        .having(func.max(up.c.depth) > _JOIN_DEPTH)
        .subquery()
    )
    nested = query.add_columns(depths.c.depth).join(depths, depths.c.id == org.c.id)
    last: tuple[int, str] | None = None
    while True:
        page = nested
        if last is not None:
            page = page.where(
                or_(
                    depths.c.depth > last[0],
                    and_(depths.c.depth == last[0], org.c.id > last[1]),
                )
            )
        rows = list(conn.execute(page.order_by(depths.c.depth, org.c.id).limit(FACT_CHUNK)))
        if not rows:
            return
        yield rows
        if len(rows) < FACT_CHUNK:
            return
        last = (rows[-1].depth, rows[-1].id)


def _facts(conn: Connection, collection: Collection) -> Iterator[list[Record]]:
    table = _table(collection.table)
    fields = fact_fields(collection)
    query = select(table.c.id, *(table.c[name] for name in fields))

    citations = _table(Citation)
    citation_query = (
        select(citations.c.entity_id, *(citations.c[name] for name in CITATION_FIELDS))
        .where(citations.c.entity_type == collection.entity)
        .order_by(citations.c.entity_id, citations.c.position)
    )
    participants = _table(InvestmentParticipant)
    investor_query = select(
        participants.c.investment_id, *(participants.c[name] for name in INVESTOR_FIELDS)
    ).order_by(participants.c.investment_id, participants.c.position)
    with_investors = "investors" in collection.schema.model_fields

    chunks = (
        _organization_chunks(conn, query)
        if collection.table is Organization
        else _keyset(conn, query, table.c.id, FACT_CHUNK)
    )
    for rows in chunks:
        ids = [row.id for row in rows]
        cited = _children(conn, citation_query, citations.c.entity_id, ids, CITATION_FIELDS)
        investors = (
            _children(conn, investor_query, participants.c.investment_id, ids, INVESTOR_FIELDS)
            if with_investors
            else {}
        )
        records = []
        for row in rows:
            record: Record = {"id": row.id}
            record.update((name, row._mapping[name]) for name in fields)
            if with_investors:
                record["investors"] = investors.get(row.id, [])
            record["citations"] = cited.get(row.id, [])
            records.append(record)
        yield records


def export_stream(engine: Engine) -> Iterator[bytes]:
    """The export as bytes, one chunk of lines at a time (a header first, a footer last)."""
    with _snapshot(engine) as conn:
        yield _line(HEADER, {"format": FORMAT, "version": VERSION})
        counts: dict[str, int] = {}
        counts[DOCUMENT] = 0
        for records in _documents(conn):
            counts[DOCUMENT] += len(records)
            yield b"".join(_line(DOCUMENT, record) for record in records)
        for entity, collection in FACTS.items():
            counts[entity] = 0
            for records in _facts(conn, collection):
                counts[entity] += len(records)
                yield b"".join(_line(entity, record) for record in records)
        yield _line(FOOTER, {"counts": counts})
