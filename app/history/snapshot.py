"""The dataset as recorded at an instant (`as_of=<timestamp>`), for lists and single items.

Every revision keeps the item's default representation after the write (`state`), so the
latest revision of each item at or before the instant is the item as known then; none, or a
delete, means it was not in the dataset then. Filters, `sort`, `include` and `fields` mean
what they mean on the current lists, applied to the states of that instant: an embedded
developer, a developer's country, a cited document are as recorded then too.

A page is one SQL statement per range of the keyset (usually one or two): the revisions of
the collection in the list's order, read from an index of migration 0005 (one per sortable
field and direction, on the state's value), each kept when no later revision of its item
was recorded by the instant (an index-only probe) and it is not a delete, filtered on the
state's values, after the cursor. A page reads about as many revisions as it returns, plus
those in its range that a later one replaced or that were recorded after the instant. A
selective filter on an indexed field reads that field's index instead, then sorts what it
finds: PostgreSQL chooses by its statistics of the values (migration 0007), SQLite by a
count (`_served`); other filters are tested on the rows read (`_opaque`). Values compare as
the current lists compare their columns: text in the database's collation (code points on
SQLite and on C or C.UTF-8 PostgreSQL databases), numbers as numbers, nulls last in both
directions, ties by id.

`q` (the matching of `GET /v1/search`, typos included) has no SQL form: it is tested here on
the states read in order, until a page of them matches, so its cost grows with the states
read before the page's matches (all of them, at worst).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Select,
    Text,
    case,
    cast,
    exists,
    false,
    func,
    literal_column,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Session, col
from sqlmodel import func as sm_func
from sqlmodel import select as sm_select

from app.ai_models import service as models
from app.api import PageParams
from app.chip_support import service as chip_support
from app.chips import service as chips
from app.documents import service as documents
from app.errors import InvalidParameter
from app.history.service import (
    AS_OF_FILTERED,
    AS_OF_SORTED,
    StateValue,
    state_at,
    state_reader,
    to_utc,
)
from app.investments import service as investments
from app.listing import SortKey, SortSpec, parse_sort
from app.models import Revision, metadata
from app.organizations import service as organizations
from app.search.matching import classify
from app.search.service import parse_needle
from app.views import View

Item = dict[str, Any]
Test = Callable[[Item], bool]

_CURSOR_VERSION = 1
# States fetched at a time while `q` is tested on them.
_BATCH = 500
# SQLite: a filter's own index is read when it finds fewer than this many revisions per row
# of the page; otherwise the list's order is read and the filter tested, which takes about
# N / _PROBE rows for a page (N: the collection's revisions) when matches are spread evenly.
_PROBE = 100


def _recorded(
    session: Session, entity_type: str, at: dt.datetime, ids: Sequence[str]
) -> Iterator[tuple[str, Item]]:
    """(id, state) of each of `ids` as recorded at `at` (absent: not in the dataset then)."""
    latest = (
        sm_select(sm_func.max(Revision.id))
        .where(
            Revision.entity_type == entity_type,
            col(Revision.recorded_at) <= at,
            col(Revision.entity_id).in_(ids),
        )
        .group_by(col(Revision.entity_id))
    )
    statement = sm_select(col(Revision.entity_id), col(Revision.state)).where(
        # The type again: PostgreSQL then reads one partition (migration 0011), not six.
        Revision.entity_type == entity_type,
        col(Revision.id).in_(latest),
        col(Revision.action) != "delete",
    )
    read = state_reader(session)
    for entity_id, state in session.exec(statement):
        if isinstance(state, dict):
            yield entity_id, read(entity_type, state)


class Snapshot:
    """The recorded states at one instant of the items a page embeds."""

    def __init__(self, session: Session, at: dt.datetime) -> None:
        self.session = session
        self.at = to_utc(at)

    def some(self, entity_type: str, ids: Iterable[str]) -> dict[str, Item]:
        wanted = sorted(set(ids))
        return dict(_recorded(self.session, entity_type, self.at, wanted)) if wanted else {}


# The states in SQL -------------------------------------------------------------------------

_NAME = re.compile(r"[a-z_]+")


def _word(text: str) -> ColumnElement[Any]:
    """A fixed word of ours (an entity type, a field, a JSON type) as an SQL string literal:
    the index expressions of migration 0005 have literals, and so must the queries' to use
    them (a bound parameter would not match an index's expression or predicate)."""
    assert _NAME.fullmatch(text), text
    return literal_column(f"'{text}'")


class Rows:
    """One alias of the revisions table in a statement, with its states' values written as
    the indexes of migration 0005 write them."""

    def __init__(self, dialect: str, name: str) -> None:
        self.dialect = dialect
        self.postgresql = dialect == "postgresql"
        self.table = metadata.tables["revisions"].alias(name)
        self.name = name

    def entity_id(self) -> ColumnElement[Any]:
        return self.table.c.entity_id

    def _json(self, name: str) -> ColumnElement[Any]:
        return self.table.c.state.op("->", return_type=JSONB)(_word(name))

    def value(self, name: str, number: bool) -> ColumnElement[Any]:
        """The state's `name` as the as_of index on it orders it (null when absent)."""
        return StateValue(self.table.c.state, name, number)

    def is_boolean(self, name: str, value: bool) -> ColumnElement[bool]:
        """The state's `name` is JSON true (or false): not 1, not "true"."""
        word = _word("true" if value else "false")
        if not self.postgresql:
            return func.json_type(self.table.c.state, literal_column(f"'$.{name}'")) == word
        return cast(self._json(name), Text) == word

    def of_type(self, entity_type: str) -> ColumnElement[bool]:
        """This revision is of `entity_type` (which the partial as_of indexes imply)."""
        of_type: ColumnElement[bool] = self.table.c.entity_type == _word(entity_type)
        if self.postgresql:
            return of_type
        # Without statistics SQLite takes an equality on entity_type for selective, reads the
        # whole collection by the entity index and sorts it; `likely` tells it the term keeps
        # most rows, so it reads the sort's (or a filter's) index instead.
        return type_coerce(func.likely(of_type), Boolean)

    def current(self, entity_type: str, at: dt.datetime) -> list[ColumnElement[bool]]:
        """This revision is of `entity_type`, its item's latest at `at`, and not a delete."""
        later = Rows(self.dialect, self.name + "_later")
        newer: Select[Any] = select(literal_column("1")).where(
            # A literal, as in of_type: PostgreSQL reads the one partition (migration 0011).
            later.table.c.entity_type == _word(entity_type),
            later.entity_id() == self.entity_id(),
            later.table.c.id > self.table.c.id,
            later.table.c.recorded_at <= at,
        )
        state = self.table.c.state
        if self.postgresql:
            # Written as "none of the other types": PostgreSQL estimates an equality on an
            # expression at 0.5% of the rows, and would then sort the whole range it thinks
            # tiny instead of reading it in order.
            others = [_word(t) for t in ("array", "string", "number", "boolean", "null")]
            is_object: ColumnElement[bool] = func.jsonb_typeof(state).not_in(others)
        else:
            is_object = func.json_type(state) == _word("object")
        return [
            self.of_type(entity_type),
            self.table.c.recorded_at <= at,
            self.table.c.action != "delete",
            is_object,
            ~exists(newer),
        ]


# Filters ---------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Condition:
    """What one filter keeps: an SQL condition on the row's state, or (`q`) a test of it.
    `index`: the field whose as_of index finds the rows the condition keeps (a range of it)."""

    sql: ColumnElement[bool] | None = None
    test: Test | None = None
    index: str | None = None


@dataclass(frozen=True)
class Context:
    """What a filter is built against: the collection, its rows in the statement, the instant."""

    collection: Collection
    rows: Rows
    at: dt.datetime

    def value(self, name: str) -> ColumnElement[Any]:
        return self.rows.value(name, self.collection.is_number(name))

    def on(self, name: str, sql: ColumnElement[bool]) -> Condition:
        """A condition on the value of `name` (a range of its index, if it has one)."""
        return Condition(sql, index=name if name in self.collection.indexed else None)

    def organizations(self, name: str, values: Sequence[Any]) -> Select[Any]:
        """The ids of the organizations recorded at the instant with `name` in `values`."""
        orgs = Rows(self.rows.dialect, self.rows.name + "_org")
        return select(orgs.entity_id()).where(
            *orgs.current(_ORG, self.at), orgs.value(name, False).in_(list(values))
        )


# A filter's value, and what it is built against -> what it keeps.
Filter = Callable[[Any, Context], Condition]


def _plain(value: Any) -> Any:
    """A filter value as states hold it (dates are ISO strings, which sort as dates)."""
    return value.isoformat() if isinstance(value, dt.date) else value


def one_of(name: str) -> Filter:
    def build(values: Any, context: Context) -> Condition:
        return context.on(name, context.value(name).in_(list(values)))

    return build


def is_null(name: str) -> Filter:
    def build(flag: Any, context: Context) -> Condition:
        value = context.value(name)
        return context.on(name, value.is_(None) if flag else value.is_not(None))

    return build


def equal(name: str) -> Filter:
    def build(value: Any, context: Context) -> Condition:
        if isinstance(value, bool):
            return Condition(context.rows.is_boolean(name, value))
        return context.on(name, context.value(name) == value)

    return build


def at_least(name: str) -> Filter:
    def build(bound: Any, context: Context) -> Condition:
        return context.on(name, context.value(name) >= _plain(bound))

    return build


def at_most(name: str) -> Filter:
    def build(bound: Any, context: Context) -> Condition:
        return context.on(name, context.value(name) <= _plain(bound))

    return build


def matching(names: Callable[[Item], Sequence[Any]]) -> Filter:
    """`q`: a name matching as in `GET /v1/search` (the names recorded then), in Python."""

    def build(q: Any, _: Context) -> Condition:
        needle = parse_needle(q)
        return Condition(
            test=lambda item: any(
                isinstance(n, str) and classify(needle, n) is not None for n in names(item)
            )
        )

    return build


def _names(item: Item) -> list[Any]:
    return [item.get("name"), *(item.get("aliases") or [])]


def _investor_ids(item: Item) -> list[Any]:
    return [i.get("organization_id") for i in item.get("investors") or [] if isinstance(i, dict)]


def _referenced_country(source: str) -> Filter:
    """The item whose `source` organization had one of the countries at the instant."""

    def build(values: Any, context: Context) -> Condition:
        in_countries = context.value(source).in_(context.organizations("country", values))
        if context.rows.postgresql:
            # Tested on each row read (a hash of the ids, built once): PostgreSQL cannot tell
            # how many items a set of organizations has, and would join by reading them all.
            return Condition(in_countries)
        return context.on(source, in_countries)

    return build


def _investor(
    context: Context, keep: Callable[[ColumnElement[Any]], ColumnElement[bool]]
) -> ColumnElement[bool]:
    """Some investor of the state (an object of its `investors` array) whose
    `organization_id` `keep` keeps."""
    rows = context.rows
    state = rows.table.c.state
    guards: list[ColumnElement[bool]] = []
    organization: ColumnElement[Any]
    if rows.postgresql:
        investors = state.op("->", return_type=JSONB)(_word("investors"))
        array = case(
            (func.jsonb_typeof(investors) == _word("array"), investors),
            else_=literal_column("'[]'::jsonb"),
        )
        elements = func.jsonb_array_elements(array).table_valued("value", name="investor")
        organization = elements.c.value.op("->>", return_type=Text)(_word("organization_id"))
    else:
        path: ColumnElement[Any] = literal_column("'$.investors'")
        elements = func.json_each(state, path).table_valued("value", "type", name="investor")
        guards.append(func.json_type(state, path) == _word("array"))
        organization = case(
            (
                elements.c.type == _word("object"),
                func.json_extract(elements.c.value, literal_column("'$.organization_id'")),
            )
        )
    found: Select[Any] = (
        select(literal_column("1")).select_from(elements).where(*guards, keep(organization))
    )
    return exists(found)


def _investor_in(values: Any, context: Context) -> Condition:
    return Condition(_investor(context, lambda o: o.in_(list(values))))


def _investor_country(values: Any, context: Context) -> Condition:
    orgs = context.organizations("country", values)
    return Condition(_investor(context, lambda o: o.in_(orgs)))


def _taking_part(organization_id: Any, context: Context) -> Condition:
    return Condition(
        or_(
            _investor(context, lambda o: o == organization_id),
            context.value("recipient_id") == organization_id,
        )
    )


# Collections -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Collection:
    entity: str
    table: str
    sort: SortSpec
    # filter field (as in the collection's XFilters) -> what it keeps of the recorded states
    filters: Mapping[str, Filter]
    # include name -> (the id field it follows, the entity type it names)
    embeds: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    includes: frozenset[str] = frozenset({"citations", "documents"})

    @property
    def indexed(self) -> frozenset[str]:
        """The fields with an as_of index (migration 0005)."""
        sorted_fields = (name for name, _ in AS_OF_SORTED[self.entity])
        return frozenset([*sorted_fields, *AS_OF_FILTERED.get(self.entity, ())])

    def is_number(self, name: str) -> bool:
        """Whether the field holds numbers (its column's type; other fields hold text)."""
        column = metadata.tables[self.table].c.get(name)
        python_type = None if column is None else column.type.python_type
        return python_type is int


_ORG = "organization"
COLLECTIONS: dict[str, Collection] = {
    c.entity: c
    for c in (
        Collection(
            "organization",
            "organizations",
            organizations.SORT,
            {
                "q": matching(_names),
                "kind": one_of("kind"),
                "country": one_of("country"),
                "parent_id": one_of("parent_id"),
                "country_null": is_null("country"),
                "city_null": is_null("city"),
                "parent_id_null": is_null("parent_id"),
                "disputed": equal("disputed"),
            },
            {"parent": ("parent_id", _ORG)},
        ),
        Collection(
            "model",
            "ai_models",
            models.SORT,
            {
                "q": matching(_names),
                "developer_id": one_of("developer_id"),
                "developer_country": _referenced_country("developer_id"),
                "open_weights": equal("open_weights"),
                "reasoning": equal("reasoning"),
                "parameters_gte": at_least("parameters"),
                "parameters_lte": at_most("parameters"),
                "active_parameters_gte": at_least("active_parameters"),
                "active_parameters_lte": at_most("active_parameters"),
                "release_date_from": at_least("release_date"),
                "release_date_to": at_most("release_date"),
                "parameters_null": is_null("parameters"),
                "active_parameters_null": is_null("active_parameters"),
                "developer_id_null": is_null("developer_id"),
                "release_date_null": is_null("release_date"),
                "open_weights_null": is_null("open_weights"),
                "reasoning_null": is_null("reasoning"),
                "license_null": is_null("license"),
                "disputed": equal("disputed"),
            },
            {"developer": ("developer_id", _ORG)},
        ),
        Collection(
            "chip",
            "chips",
            chips.SORT,
            {
                "q": matching(_names),
                "vendor_id": one_of("vendor_id"),
                "vendor_id_null": is_null("vendor_id"),
                "disputed": equal("disputed"),
            },
            {"vendor": ("vendor_id", _ORG)},
        ),
        Collection(
            "chip_support",
            "chip_support",
            chip_support.SORT,
            {
                "model_id": one_of("model_id"),
                "chip_id": one_of("chip_id"),
                "vendor_id": one_of("vendor_id"),
                "relation": one_of("relation"),
                "announced_from": at_least("announced_on"),
                "announced_to": at_most("announced_on"),
                "as_of": at_most("announced_on"),
                "chip_id_null": is_null("chip_id"),
                "vendor_id_null": is_null("vendor_id"),
                "announced_on_null": is_null("announced_on"),
                "disputed": equal("disputed"),
            },
            {
                "model": ("model_id", "model"),
                "chip": ("chip_id", "chip"),
                "vendor": ("vendor_id", _ORG),
            },
        ),
        Collection(
            "investment",
            "investments",
            investments.SORT,
            {
                "q": matching(_names),
                "kind": one_of("kind"),
                "status": one_of("status"),
                "investor_id": _investor_in,
                "investor_country": _investor_country,
                "recipient_id": one_of("recipient_id"),
                "organization_id": _taking_part,
                # A range reaches a bound when any value in it could satisfy the bound.
                "amount_usd_gte": at_least("amount_usd_max"),
                "amount_usd_lte": at_most("amount_usd_min"),
                "announced_from": at_least("announced_on"),
                "announced_to": at_most("announced_on"),
                "as_of": at_most("announced_on"),
                "amount_null": is_null("amount_usd_min"),
                "recipient_id_null": is_null("recipient_id"),
                "announced_on_null": is_null("announced_on"),
                "disputed": equal("disputed"),
            },
            {"recipient": ("recipient_id", _ORG)},
            frozenset({"citations", "documents", "investors"}),
        ),
        Collection(
            "document",
            "documents",
            documents.SORT,
            {
                "q": matching(lambda item: [item.get("title")]),
                "language": one_of("language"),
                "published_from": at_least("published_on"),
                "published_to": at_most("published_on"),
            },
            includes=frozenset(),
        ),
    )
}


def _given(collection: Collection, filters: object | None) -> list[tuple[Filter, Any]]:
    """The filters given a value, each with its meaning (refused when it has none here)."""
    if filters is None:
        return []
    assert dataclasses.is_dataclass(filters)
    given: list[tuple[Filter, Any]] = []
    for f in dataclasses.fields(filters):
        value = getattr(filters, f.name)
        if value is None:
            continue
        build = collection.filters.get(f.name)
        if build is None:
            # Never ignored silently: a filter without a meaning here is refused.
            raise InvalidParameter(f.name, "not supported together with a timestamp as_of")
        given.append((build, value))
    return given


# Order and cursors -----------------------------------------------------------------------


def _sort_values(item: Item, keys: Sequence[SortKey]) -> list[Any]:
    return [item.get(k.name) for k in keys]


@dataclass(frozen=True)
class _Key:
    """One sort key in SQL: its expression, direction, and whether it can be null."""

    expression: ColumnElement[Any]
    descending: bool
    nullable: bool


def _term(key: _Key, postgresql: bool, *, non_null: bool) -> ColumnElement[Any]:
    """ORDER BY term of a key, nulls last, written as the key's index orders (PostgreSQL:
    ascending nulls last, `DESC NULLS LAST`; SQLite: nulls first ascending, last
    descending). `non_null`: the range read holds no null there, so the index's own order
    is the list's, whatever it does with nulls."""
    if key.descending:
        descending = key.expression.desc()
        return descending.nulls_last() if postgresql and key.nullable else descending
    ascending = key.expression.asc()
    if key.nullable and not postgresql and not non_null:
        return ascending.nulls_last()
    return ascending


Range = tuple[list[ColumnElement[bool]], list[ColumnElement[Any]]]


def _ranges(keys: Sequence[_Key], after: Sequence[Any] | None, postgresql: bool) -> list[Range]:
    """The rest of the list after the cursor as consecutive ranges, each (conditions, order):
    all the rows of one come before those of the next, so reading them one after the other
    until a page is full reads the page in order. Each is one range of the first key's
    index: equal to the cursor on the keys before one key, past it on that key (or null
    there: nulls come last), the deepest key first."""

    def order(start: int, non_null: bool) -> list[ColumnElement[Any]]:
        return [
            _term(key, postgresql, non_null=non_null and i == start)
            for i, key in enumerate(keys[start:], start)
        ]

    if after is None:
        first = keys[0]
        if not first.nullable:
            return [([], order(0, True))]
        return [
            ([first.expression.is_not(None)], order(0, True)),
            ([first.expression.is_(None)], order(1, False)),
        ]

    def equal(index: int) -> ColumnElement[bool]:
        expression, value = keys[index].expression, after[index]
        return expression.is_(None) if value is None else expression == value

    ranges: list[Range] = []
    for index in reversed(range(len(keys))):
        key, value = keys[index], after[index]
        if value is None:  # only nulls follow a null, and they tie on this key
            continue
        prefix = [equal(i) for i in range(index)]
        past = key.expression < value if key.descending else key.expression > value
        ranges.append(([*prefix, past], order(index, True)))
        if key.nullable:
            ranges.append(([*prefix, key.expression.is_(None)], order(index + 1, False)))
    return ranges


def _signature(spec: SortSpec, keys: Sequence[SortKey], at: dt.datetime) -> str:
    # Bound to the instant: a page of another instant (or of the current list) is another list.
    sort = ",".join(("-" if k.descending else "") + k.name for k in keys)
    return f"{spec.collection}:{sort}@{at.isoformat()}"


def _encode_cursor(
    spec: SortSpec, keys: Sequence[SortKey], at: dt.datetime, values: list[Any]
) -> str:
    payload = [_CURSOR_VERSION, _signature(spec, keys, at), values]
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def _valid_value(value: Any, column: Any) -> bool:
    if value is None:
        return bool(column.nullable)
    python_type = column.type.python_type
    if python_type is dt.date:
        if not isinstance(value, str):
            return False
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return False
        return True
    if python_type is bool:
        return isinstance(value, bool)
    if python_type is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, str)


def _decode_cursor(raw: str, spec: SortSpec, keys: Sequence[SortKey], at: dt.datetime) -> list[Any]:
    malformed = InvalidParameter("cursor", "malformed cursor; pass next_cursor as given")
    try:
        padded = raw + "=" * (-len(raw) % 4)
        version, signature, values = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, TypeError, binascii.Error):
        raise malformed from None
    if version != _CURSOR_VERSION or signature != _signature(spec, keys, at):
        raise InvalidParameter(
            "cursor", "this cursor belongs to another collection, sort order or as_of"
        )
    if not isinstance(values, list) or len(values) != len(keys):
        raise malformed
    if not all(_valid_value(v, spec.fields[k.name]) for v, k in zip(values, keys, strict=True)):
        raise malformed
    return values


# Rendering -------------------------------------------------------------------------------


def _bare(state: Item | None) -> Item | None:
    """An embedded item as the current lists embed it: without its citations."""
    if state is None:
        return None
    return {k: v for k, v in state.items() if k != "citations"}


def _render(
    snapshot: Snapshot,
    collection: Collection,
    states: Sequence[Item],
    view: View,
    *,
    always_cite: bool,
) -> list[Item]:
    include = view.include
    refused = include - collection.includes - set(collection.embeds)
    if refused:
        raise InvalidParameter(
            "include", f"{', '.join(sorted(refused))} cannot be embedded in this collection"
        )
    items = [dict(s) for s in states]
    for item in items:
        if isinstance(item.get("investors"), list):
            item["investors"] = [dict(i) for i in item["investors"]]
    if "documents" in include:
        used = [
            list(dict.fromkeys(c["document_id"] for c in item.get("citations") or []))
            for item in items
        ]
        found = snapshot.some("document", [d for ids in used for d in ids])
        for item, ids in zip(items, used, strict=True):
            item["documents"] = [found[d] for d in ids if d in found]
    for name, (source, entity_type) in collection.embeds.items():
        if name not in include:
            continue
        embedded = snapshot.some(entity_type, [i[source] for i in items if i.get(source)])
        for item in items:
            ref = item.get(source)
            item[name] = _bare(embedded.get(ref)) if ref else None
    if "investors" in include:
        orgs = snapshot.some(_ORG, [o for item in items for o in _investor_ids(item) if o])
        for item in items:
            for investor in item.get("investors") or []:
                investor["organization"] = _bare(orgs.get(investor.get("organization_id")))
    cite = always_cite or "citations" in include
    if not cite:
        for item in items:
            item.pop("citations", None)
    if view.fields is not None:
        keep = set(view.fields) | (include - {"citations"})
        if cite:
            keep.add("citations")
        items = [{k: v for k, v in item.items() if k in keep} for item in items]
    return items


# Reading ---------------------------------------------------------------------------------


def _opaque(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """The same condition, but one no index can serve and no planner can guess the
    selectivity of (PostgreSQL counts it as keeping half the rows): the rows are then read
    in the list's order and tested, and the read stops at a page.

    Without statistics of a condition, PostgreSQL guesses that it keeps 0.5% of the rows,
    and would rather sort everything it thinks is that little than read the list's order;
    SQLite, which has no statistics, takes an equality for as selective."""
    return type_coerce(case((condition, true()), else_=false()), Boolean)


def _narrowest(
    session: Session,
    rows: Rows,
    entity_type: str,
    conditions: Iterable[list[Condition]],
    most: int,
) -> list[Condition]:
    """Of the conditions on indexed fields (grouped by field: a range is two bounds), those
    of the field whose index finds the fewest revisions, if fewer than `most` (counted up to
    `most`, in the index): reading those and sorting them then costs less than reading the
    list's order until a page of rows passes them. None when every field finds more."""
    best: tuple[int, list[Condition]] | None = None
    for group in conditions:
        found: Select[Any] = select(literal_column("1")).where(
            rows.of_type(entity_type), *(c.sql for c in group if c.sql is not None)
        )
        count = select(func.count()).select_from(found.limit(most).subquery())
        size = int(session.execute(count).scalar_one())
        if size < most and (best is None or size < best[0]):
            best = (size, group)
    return [] if best is None else best[1]


def _served(
    session: Session,
    rows: Rows,
    entity_type: str,
    keys: Sequence[SortKey],
    conditions: Sequence[Condition],
    page: PageParams,
) -> list[Condition]:
    """The conditions that an index may serve; every other one is tested on the rows read.

    PostgreSQL has statistics of the indexed values (migration 0007) and chooses: read the
    list's order and test, or read a filter's index and sort. SQLite has none: conditions on
    the first sort key bound the range of its index that is read, and of the others those of
    the field whose index finds fewest rows, if few (`_narrowest`)."""
    indexed = [c for c in conditions if c.sql is not None and c.index is not None]
    if rows.postgresql:
        return indexed
    by_index: dict[str, list[Condition]] = {}
    for c in indexed:
        assert c.index is not None
        by_index.setdefault(c.index, []).append(c)
    bounds = by_index.pop(keys[0].name, [])
    most = _PROBE * (page.limit + 1)
    return [*bounds, *_narrowest(session, rows, entity_type, by_index.values(), most)]


def _read(
    session: Session, statement: Select[Any], ranges: Sequence[Range], count: int, tests: list[Test]
) -> list[Item]:
    """The first `count` states of the ranges, in order, that pass the tests."""
    found: list[Item] = []
    for where, order in ranges:
        if len(found) >= count:
            break
        ordered = statement.where(*where).order_by(*order)
        if not tests:
            rows = session.execute(ordered.limit(count - len(found)))
            found.extend(dict(state) for _, state in rows)
            continue
        # Tested here: read in batches, never the whole range held, until the page is full.
        result = session.execute(ordered.execution_options(yield_per=_BATCH))
        try:
            for _, state in result:
                if all(test(state) for test in tests):
                    found.append(dict(state))
                    if len(found) >= count:
                        break
        finally:
            result.close()
    return found


def list_at(
    *,
    session: Session,
    entity_type: str,
    at: dt.datetime,
    filters: object | None,
    page: PageParams,
    view: View = View(),
) -> tuple[list[Item], str | None]:
    """One page of the collection as recorded at `at`, and the cursor of the next one."""
    collection = COLLECTIONS[entity_type]
    at = to_utc(at)
    keys = parse_sort(page.sort, collection.sort)
    after = _decode_cursor(page.cursor, collection.sort, keys, at) if page.cursor else None
    given = _given(collection, filters)

    rows = Rows(session.get_bind().dialect.name, "recorded")
    context = Context(collection, rows, at)
    conditions = [build(value, context) for build, value in given]
    served = _served(session, rows, entity_type, keys, conditions, page)
    where = [
        c.sql if any(c is s for s in served) else _opaque(c.sql)
        for c in conditions
        if c.sql is not None
    ]
    statement = select(rows.table.c.entity_id, rows.table.c.state).where(
        *rows.current(entity_type, at), *where
    )
    sort = [
        _Key(rows.entity_id(), k.descending, False)
        if k.name == "id"
        else _Key(context.value(k.name), k.descending, True)
        for k in keys
    ]
    ranges = _ranges(sort, after, rows.postgresql)
    tests = [c.test for c in conditions if c.test is not None]
    states = _read(session, statement, ranges, page.limit + 1, tests)

    read = state_reader(session)
    chosen = [read(entity_type, s) for s in states[: page.limit]]
    next_cursor = None
    if len(states) > page.limit:
        values = _sort_values(chosen[-1], keys)
        next_cursor = _encode_cursor(collection.sort, keys, at, values)
    snapshot = Snapshot(session, at)
    items = _render(snapshot, collection, chosen, view, always_cite=False)
    return items, next_cursor


def item_at(
    *, session: Session, entity_type: str, item_id: str, at: dt.datetime, view: View = View()
) -> Item:
    """The item as recorded at `at` (404 if it did not exist then, 410 if deleted by then),
    with what `view` asks for as recorded then too."""
    state = state_at(session, entity_type, item_id, at)
    snapshot = Snapshot(session, at)
    return _render(snapshot, COLLECTIONS[entity_type], [state], view, always_cite=True)[0]
