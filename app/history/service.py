"""Revisions: every write of every item, for its history, the changes feed and `as_of`.

A revision keeps who wrote (the key's name, or "seed"), when (UTC, microseconds), what
changed (`diff`: {field: [old, new]}), the citations given, an optional reason, and the
item's default representation after the write (`state`; null for a delete; jsonb on
PostgreSQL, read back in the representation's key order: `in_key_order`).
"""

from __future__ import annotations

import datetime as dt
import re
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Union, get_args, get_origin

import orjson
from pydantic import BaseModel
from sqlalchemy import BigInteger, ColumnElement, Index, Text, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal, _TraverseInternalsType
from sqlmodel import Session, col, func, select

from app.ai_models.schemas import ModelPublic
from app.chip_support.schemas import ChipSupportPublic
from app.chips.schemas import ChipPublic
from app.documents.schemas import DocumentPublic
from app.errors import Gone, NotFound
from app.investments.schemas import InvestmentPublic
from app.jsonutil import dumps
from app.models import DISTINCT_KEYS, Revision, metadata
from app.organizations.schemas import OrganizationPublic

# entity type -> the path of its collection
ENTITY_PATHS = {
    "organization": "organizations",
    "model": "models",
    "chip": "chips",
    "chip_support": "chip-support",
    "investment": "investments",
    "document": "documents",
}
LABELS = {
    "organization": "organization",
    "model": "model",
    "chip": "chip",
    "chip_support": "chip-support relation",
    "investment": "investment",
    "document": "document",
}


# An id that cannot be a slug never had a revision: answer 404 without asking the database
# (PostgreSQL refuses a NUL byte in a query's text instead of finding nothing).
_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")


def _require_slug(entity_type: str, entity_id: str) -> None:
    if not _ID.fullmatch(entity_id):
        raise NotFound(LABELS[entity_type], entity_id)


def utcnow() -> dt.datetime:
    """Naive UTC with microseconds: how every revision time is stored, on both databases."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def to_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def plain(value: Any) -> Any:
    """JSON-plain (dates as strings), as stored in the JSON columns and served."""
    return orjson.loads(dumps(value))


def _getters() -> dict[str, Callable[[Session, str], dict[str, Any]]]:
    # Imported here: the collection services import app.listing, which imports this module.
    from app.ai_models.service import get_model
    from app.chip_support.service import get_chip_support
    from app.chips.service import get_chip
    from app.documents.service import document_public
    from app.investments.service import get_investment
    from app.models import Document
    from app.organizations.service import get_organization

    def document(session: Session, item_id: str) -> dict[str, Any]:
        row = session.get(Document, item_id)
        if row is None:
            raise NotFound("document", item_id)
        return document_public(row)

    return {
        "organization": lambda s, i: get_organization(session=s, organization_id=i),
        "model": lambda s, i: get_model(session=s, model_id=i),
        "chip": lambda s, i: get_chip(session=s, chip_id=i),
        "chip_support": lambda s, i: get_chip_support(session=s, chip_support_id=i),
        "investment": lambda s, i: get_investment(session=s, investment_id=i),
        "document": document,
    }


def current_state(session: Session, entity_type: str, entity_id: str) -> dict[str, Any]:
    """The item's default representation (GET without include or fields), JSON-plain."""
    result: dict[str, Any] = plain(_getters()[entity_type](session, entity_id))
    return result


def diff_states(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any]:
    """{field: [old, new]} for each value that differs (citations are listed apart)."""
    old = old or {}
    new = new or {}
    keys = [k for k in dict.fromkeys([*old, *new]) if k != "citations"]
    return {k: [old.get(k), new.get(k)] for k in keys if old.get(k) != new.get(k)}


# The order of a state's keys ---------------------------------------------------------------


@dataclass
class _KeyOrder:
    """An object's keys in its schema's order, and the orders of the objects in its fields."""

    keys: tuple[str, ...]
    fields: dict[str, _KeyOrder] = field(default_factory=dict)


def _schema_in(annotation: Any) -> type[BaseModel] | None:
    """The schema that a field holds, alone, in a list or optional (`list[X] | None`)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (list, Union, types.UnionType):
        for argument in get_args(annotation):
            found = _schema_in(argument)
            if found is not None:
                return found
    return None


def _key_order(schema: type[BaseModel], made: dict[type[BaseModel], _KeyOrder]) -> _KeyOrder:
    if schema in made:  # a schema may hold itself (an organization's parent)
        return made[schema]
    order = made[schema] = _KeyOrder(tuple(schema.model_fields))
    for name, info in schema.model_fields.items():
        inner = _schema_in(info.annotation)
        if inner is not None:
            order.fields[name] = _key_order(inner, made)
    return order


_MADE: dict[type[BaseModel], _KeyOrder] = {}
# entity type -> the key order of its representation, which its schema documents
_KEY_ORDERS = {
    entity: _key_order(schema, _MADE)
    for entity, schema in (
        ("organization", OrganizationPublic),
        ("model", ModelPublic),
        ("chip", ChipPublic),
        ("chip_support", ChipSupportPublic),
        ("investment", InvestmentPublic),
        ("document", DocumentPublic),
    )
}


def _ordered(value: Any, order: _KeyOrder) -> Any:
    if isinstance(value, list):
        return [_ordered(v, order) for v in value]
    if not isinstance(value, dict):
        return value
    result = {k: value[k] for k in order.keys if k in value}
    if len(result) != len(value):
        result.update(value)  # a key the schema lacks is kept, after the schema's
    for name, inner in order.fields.items():
        nested = result.get(name)
        if nested is not None:
            result[name] = _ordered(nested, inner)
    return result


def in_key_order(entity_type: str, state: dict[str, Any]) -> dict[str, Any]:
    """A state read back from PostgreSQL with its keys in its representation's order, as
    written and as the current item has them: jsonb keeps an object's keys in an order of
    its own (shortest first), and a CSV's columns, an NDJSON line, an ETag follow the keys'
    order. SQLite's JSON is the text written, in order already."""
    order = _KEY_ORDERS.get(entity_type)
    result: dict[str, Any] = dict(state) if order is None else _ordered(state, order)
    return result


def state_reader(session: Session) -> Callable[[str, Any], Any]:
    """How the states `session` reads come back as answers show them, by entity type: in
    their key order on PostgreSQL (`in_key_order`), as written on SQLite; a state that is
    no object (a deletion's null) as it is."""
    postgresql = session.get_bind().dialect.name == "postgresql"

    def read(entity_type: str, state: Any) -> Any:
        if not isinstance(state, dict):
            return state
        return in_key_order(entity_type, state) if postgresql else dict(state)

    return read


def record(
    session: Session,
    *,
    entity_type: str,
    entity_id: str,
    revision: int,
    action: str,
    actor: str,
    diff: dict[str, Any],
    citations: list[dict[str, Any]],
    state: dict[str, Any] | None,
    reason: str | None = None,
    at: dt.datetime | None = None,
) -> Revision:
    row = Revision(
        entity_type=entity_type,
        entity_id=entity_id,
        revision=revision,
        action=action,
        actor=actor,
        recorded_at=at or utcnow(),
        reason=reason,
        diff=plain(diff),
        citations=plain(citations),
        state=state,
    )
    session.add(row)
    session.flush()
    return row


def _latest(session: Session, entity_type: str, entity_id: str) -> Revision | None:
    statement = (
        select(Revision)
        .where(Revision.entity_type == entity_type, Revision.entity_id == entity_id)
        .order_by(col(Revision.id).desc())
        .limit(1)
    )
    return session.exec(statement).first()


def history_path(entity_type: str, entity_id: str) -> str:
    return f"/v1/{ENTITY_PATHS[entity_type]}/{entity_id}/history"


def gone(entity_type: str, entity_id: str, when: dt.datetime) -> Gone:
    path = history_path(entity_type, entity_id)
    return Gone(
        f"The {LABELS[entity_type]} {entity_id!r} was deleted on {when.isoformat()}Z;"
        f" its history is at {path}.",
        headers={"Link": f'<{path}>; rel="history"'},
    )


def raise_if_deleted(session: Session, entity_type: str, entity_id: str) -> None:
    """410 Gone when the item's last revision is a delete (called once the row is missing)."""
    latest = _latest(session, entity_type, entity_id)
    if latest is not None and latest.action == "delete":
        raise gone(entity_type, entity_id, latest.recorded_at)


def revision_public(row: Revision) -> dict[str, Any]:
    return {
        "revision": row.revision,
        "action": row.action,
        "actor": row.actor,
        "recorded_at": row.recorded_at.isoformat() + "Z",
        "reason": row.reason,
        "diff": row.diff,
        "citations": row.citations,
    }


def list_history(session: Session, entity_type: str, entity_id: str) -> list[dict[str, Any]]:
    _require_slug(entity_type, entity_id)
    statement = (
        select(Revision)
        .where(Revision.entity_type == entity_type, Revision.entity_id == entity_id)
        .order_by(col(Revision.id))
    )
    rows = session.exec(statement).all()
    if not rows:
        raise NotFound(LABELS[entity_type], entity_id)
    return [revision_public(r) for r in rows]


def state_at(session: Session, entity_type: str, entity_id: str, at: dt.datetime) -> dict[str, Any]:
    """The item as recorded at `at`: 404 if it did not exist then, 410 if deleted by then."""
    _require_slug(entity_type, entity_id)
    statement = (
        select(Revision)
        .where(
            Revision.entity_type == entity_type,
            Revision.entity_id == entity_id,
            col(Revision.recorded_at) <= to_utc(at),
        )
        .order_by(col(Revision.id).desc())
        .limit(1)
    )
    row = session.exec(statement).first()
    if row is None:
        raise NotFound(LABELS[entity_type], entity_id)
    if row.action == "delete" or row.state is None:
        raise gone(entity_type, entity_id, row.recorded_at)
    state: dict[str, Any] = state_reader(session)(entity_type, row.state)
    return state


def list_changes(
    session: Session, *, since: int, limit: int
) -> tuple[list[dict[str, Any]], int, bool]:
    """Every write after the cursor `since` (a revision's id), oldest first; with the cursor
    of the last one returned (`since` when none) and whether more follow."""
    statement = (
        select(Revision).where(col(Revision.id) > since).order_by(col(Revision.id)).limit(limit + 1)
    )
    rows = list(session.exec(statement))
    more = len(rows) > limit
    rows = rows[:limit]
    read = state_reader(session)
    data = [
        {
            "cursor": str(r.id),
            "collection": ENTITY_PATHS.get(r.entity_type, r.entity_type),
            "entity_type": r.entity_type,
            "id": r.entity_id,
            **revision_public(r),
            "state": read(r.entity_type, r.state),
        }
        for r in rows
    ]
    last = rows[-1].id if rows and rows[-1].id is not None else since
    return data, last, more


def has_history(session: Session, entity_type: str, entity_id: str) -> bool:
    return _latest(session, entity_type, entity_id) is not None


def revision_count(session: Session, entity_type: str, entity_id: str) -> int:
    statement = select(func.count()).where(
        Revision.entity_type == entity_type, Revision.entity_id == entity_id
    )
    return int(session.exec(statement).one())


# The as_of indexes (migration 0005) ---------------------------------------------------------

_FIELD = re.compile(r"[a-z_]+")


class StateValue(ColumnElement[Any]):
    """A field of a revision's state as the as_of indexes hold it, null when absent or null:
    on PostgreSQL the text (`->>`, collated "C" as the columns it comes from, migration 0010)
    or, for a number field, its value as a bigint (those columns are bigint); on SQLite
    `json_extract`, which keeps a JSON number a number. Queries compare and order by this
    same expression, so that they use the indexes.
    """

    inherit_cache = True
    _traverse_internals: _TraverseInternalsType = [  # noqa: RUF012 (as SQLAlchemy declares it)
        ("state", InternalTraversal.dp_clauseelement),
        ("field", InternalTraversal.dp_string),
        ("number", InternalTraversal.dp_boolean),
        ("collated", InternalTraversal.dp_boolean),
    ]

    def __init__(
        self, state: ColumnElement[Any], field: str, number: bool, *, collated: bool = True
    ) -> None:
        assert _FIELD.fullmatch(field), field
        self.state = state
        self.field = field
        self.number = number
        # False only in the metadata's copy of the indexes: PostgreSQL reflects an index's
        # expression without its collation (tests/test_migrations.py checks that).
        self.collated = collated
        self.type = BigInteger() if number else Text()


@compiles(StateValue)
def _json_extract(element: StateValue, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_extract({compiler.process(element.state, **kw)}, '$.{element.field}')"


@compiles(StateValue, "postgresql")
def _arrow(element: StateValue, compiler: SQLCompiler, **kw: Any) -> str:
    text = f"({compiler.process(element.state, **kw)} ->> '{element.field}')"
    if element.number:
        return f"({text}::bigint)"
    return f'({text} COLLATE "C")' if element.collated else text


# entity type -> the fields its as_of lists sort by (besides id), each with whether it holds
# numbers; and fields that are not sortable but have an index for their filter.
AS_OF_SORTED: dict[str, tuple[tuple[str, bool], ...]] = {
    "organization": (("name", False), ("kind", False), ("country", False), ("city", False)),
    "model": (
        ("name", False),
        ("parameters", True),
        ("active_parameters", True),
        ("release_date", False),
        ("developer_id", False),
    ),
    "chip": (("name", False), ("vendor_id", False)),
    "chip_support": (
        ("model_id", False),
        ("chip_id", False),
        ("vendor_id", False),
        ("relation", False),
        ("announced_on", False),
    ),
    "investment": (
        ("name", False),
        ("amount_usd_min", True),
        ("amount_usd_max", True),
        ("announced_on", False),
    ),
    "document": (("title", False), ("language", False), ("published_on", False)),
}
AS_OF_FILTERED: dict[str, tuple[str, ...]] = {
    "organization": ("parent_id",),
    "investment": ("recipient_id",),
}


# PostgreSQL: `revisions` is partitioned by entity type, one partition each (migration 0011);
# the as_of indexes of an entity type are its partition's, without the predicate.
PARTITIONS: dict[str, str] = {entity: f"revisions_{entity}" for entity in AS_OF_SORTED}


def _as_of_index_specs() -> list[tuple[str, str, str, bool, bool]]:
    """(name, entity type, field, whether a number, descending) of each as_of index of one
    entity type: `_id` for every sortable and filtered field, `_desc` for the sortable ones."""
    specs = []
    for entity, sorted_fields in AS_OF_SORTED.items():
        fields = [(name, number, True) for name, number in sorted_fields]
        fields += [(name, False, False) for name in AS_OF_FILTERED.get(entity, ())]
        for name, number, both in fields:
            specs.append((f"ix_revisions_{entity}_{name}_id", entity, name, number, False))
            if both:
                specs.append((f"ix_revisions_{entity}_{name}_desc", entity, name, number, True))
    return specs


def as_of_index_entities() -> dict[str, str]:
    """The as_of indexes of one entity type each (all but `ix_revisions_as_of`): name ->
    entity type."""
    return {name: entity for name, entity, *_ in _as_of_index_specs()}


def _as_of_indexes() -> None:
    """The indexes of migration 0005 in the metadata, so that the migrations are checked
    against them: `(entity_type, entity_id, id, recorded_at)`, then for each sortable field
    of each collection `(value, entity_id)` and `(value DESC NULLS LAST, entity_id)` where
    `entity_type` is the collection's, and `(value, entity_id)` for the filtered fields."""
    table = metadata.tables["revisions"]
    c = table.c
    Index("ix_revisions_as_of", c.entity_type, c.entity_id, c.id, c.recorded_at)
    for name, entity, field_name, number, descending in _as_of_index_specs():
        where = c.entity_type == literal_column(f"'{entity}'")
        value = StateValue(c.state, field_name, number, collated=False)
        kw: dict[str, Any] = {"postgresql_where": where, "sqlite_where": where, **DISTINCT_KEYS}
        Index(name, value.desc().nulls_last() if descending else value, c.entity_id, **kw)


_as_of_indexes()
