"""Keyset pagination, sorting, `include` and `q` shared by every collection."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import orjson
from sqlalchemy import ColumnElement, Row, Select, bindparam, select, tuple_, union_all
from sqlmodel import Session, SQLModel

from app.citations.service import with_citations
from app.errors import InvalidParameter, NotFound
from app.filtering import SizedStatements, in_params, in_size, in_values
from app.history.service import raise_if_deleted
from app.reads import read_rows
from app.search.service import matching_condition

if TYPE_CHECKING:  # app.api imports this module
    from app.api import PageParams

T = TypeVar("T", bound=SQLModel)

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
_CURSOR_VERSION = 1


@dataclass(frozen=True)
class SortSpec:
    """The fields a collection can be sorted by; `id` always breaks ties."""

    collection: str
    fields: Mapping[str, Any]  # public name -> column
    default: str

    @property
    def allowed(self) -> str:
        return ", ".join(sorted(self.fields))

    @property
    def pattern(self) -> str:
        """The `sort` syntax as a regular expression, for the OpenAPI document."""
        name = "(?:" + "|".join(sorted(self.fields)) + ")"
        return rf"^\s*[-+]?{name}\s*(?:,\s*[-+]?{name}\s*)*$"


@dataclass(frozen=True)
class SortKey:
    name: str
    descending: bool


def parse_sort(raw: str | None, spec: SortSpec) -> list[SortKey]:
    text = raw if raw not in (None, "") else spec.default
    assert text is not None
    keys: list[SortKey] = []
    seen: set[str] = set()
    for part in text.split(","):
        token = part.strip()
        descending = token.startswith("-")
        name = token.lstrip("-+")
        if name not in spec.fields:
            raise InvalidParameter(
                "sort", f"unknown sort field {name!r}; sortable fields: {spec.allowed}"
            )
        if name in seen:
            raise InvalidParameter("sort", f"field {name!r} is given twice")
        seen.add(name)
        keys.append(SortKey(name, descending))
    if "id" not in seen:
        keys.append(SortKey("id", False))
    return keys


def _sort_signature(spec: SortSpec, keys: Sequence[SortKey]) -> str:
    return spec.collection + ":" + ",".join(("-" if k.descending else "") + k.name for k in keys)


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def encode_cursor(spec: SortSpec, keys: Sequence[SortKey], row: Any) -> str:
    payload = [
        _CURSOR_VERSION,
        _sort_signature(spec, keys),
        [_jsonable(getattr(row, k.name)) for k in keys],
    ]
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def _coerce(value: Any, column: Any) -> Any:
    if value is None:
        return None
    python_type = column.type.python_type
    if python_type is dt.date:
        if not isinstance(value, str):
            raise ValueError("date expected")
        return dt.date.fromisoformat(value)
    if python_type is bool:
        if not isinstance(value, bool):
            raise ValueError("boolean expected")
        return value
    if python_type is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("integer expected")
        if not -(2**63) <= value < 2**63:
            raise ValueError("integer out of range")
        return value
    if not isinstance(value, str) or "\x00" in value:
        raise ValueError("string expected")
    return value


def decode_cursor(raw: str, spec: SortSpec, keys: Sequence[SortKey]) -> list[Any]:
    try:
        padded = raw + "=" * (-len(raw) % 4)
        payload = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        version, signature, values = payload
    except (ValueError, TypeError, binascii.Error, UnicodeEncodeError, orjson.JSONDecodeError):
        raise InvalidParameter("cursor", "malformed cursor; pass next_cursor as given") from None
    if version != _CURSOR_VERSION or signature != _sort_signature(spec, keys):
        raise InvalidParameter("cursor", "this cursor belongs to another collection or sort order")
    if not isinstance(values, list) or len(values) != len(keys):
        raise InvalidParameter("cursor", "malformed cursor; pass next_cursor as given")
    try:
        return [_coerce(v, spec.fields[k.name]) for v, k in zip(values, keys, strict=True)]
    except ValueError:
        raise InvalidParameter("cursor", "malformed cursor; pass next_cursor as given") from None


def _is_nullable(column: Any) -> bool:
    return bool(column.nullable)


def _order(spec: SortSpec, keys: Sequence[SortKey], source: Any = None) -> list[Any]:
    """ORDER BY terms: nulls last in both directions, ties broken by id ascending.

    Plain columns with a direction, so that an index on the same columns in the same
    directions returns the rows in order (migration 0004; on SQLite a descending index puts
    nulls last by itself). `source` names the columns of a subquery instead of the table's.
    """
    terms: list[Any] = []
    for key in keys:
        column = spec.fields[key.name]
        target = column if source is None else source[key.name]
        term = target.desc() if key.descending else target.asc()
        terms.append(term.nulls_last() if _is_nullable(column) else term)
    return terms


def _after_branches(
    spec: SortSpec, keys: Sequence[SortKey], given: Sequence[Any], *, bind: bool = False
) -> list[list[ColumnElement[bool]]]:
    """The rows after the cursor as disjoint conjunctions, each one range of the sort's
    index: equal to the cursor on a prefix of the keys, then past it on the next key, or
    null there (nulls come last). Their OR is the keyset predicate, but no index serves an
    OR in order; each branch alone reads only the rows it returns.

    `bind`: the cursor's values as parameters `cursor_<i>`, so that the statement serves
    every cursor with nulls in the same places.
    """
    columns = [spec.fields[k.name] for k in keys]
    values: list[Any] = [
        None if v is None else bindparam(f"cursor_{i}", v, type_=columns[i].type) if bind else v
        for i, v in enumerate(given)
    ]

    def equal(index: int) -> ColumnElement[bool]:
        column, value = columns[index], values[index]
        return column.is_(None) if value is None else column == value  # type: ignore[no-any-return]

    # A trailing run of ascending keys at non-null cursor values is one row comparison, in
    # the index's own order; rows with a null inside the run are in the null branches.
    start = len(keys)
    while start > 0 and not keys[start - 1].descending and values[start - 1] is not None:
        start -= 1
    prefix = [equal(i) for i in range(start)]
    branches: list[list[ColumnElement[bool]]] = []
    if start < len(keys):
        run, cursor = columns[start:], values[start:]
        after = run[0] > cursor[0] if len(run) == 1 else tuple_(*run) > tuple_(*cursor)
        branches.append([*prefix, after])
        for index in range(start, len(keys)):
            if _is_nullable(columns[index]):
                inside = [equal(i) for i in range(start, index)]
                branches.append([*prefix, *inside, columns[index].is_(None)])
    for index in reversed(range(start)):
        column, value = columns[index], values[index]
        if value is None:  # only nulls follow a null, and they tie on this key
            continue
        past = column < value if keys[index].descending else column > value
        branches.append([*prefix[:index], past])
        if _is_nullable(column):
            branches.append([*prefix[:index], column.is_(None)])
    return branches


def page_statement(
    statement: Select[Any],
    *,
    spec: SortSpec,
    keys: Sequence[SortKey],
    values: Sequence[Any] | None,
    limit: int,
    bind: bool = False,
) -> Select[Any]:
    """The statement of one page of `limit` rows, in order, after the cursor's `values`.

    With several branches, each one's first `limit` (sort columns only) are merged in
    order by a UNION ALL (PostgreSQL merges the index scans and stops at `limit`), and the
    page's rows are then read by primary key. `bind`: the limit and the cursor's values are
    parameters (`page_limit`, `cursor_<i>`), for a statement kept and used again.
    """
    order = _order(spec, keys)
    count: Any = bindparam("page_limit", limit) if bind else limit
    if values is None:
        return statement.order_by(*order).limit(count)
    branches = _after_branches(spec, keys, values, bind=bind)
    if len(branches) == 1:
        return statement.where(*branches[0]).order_by(*order).limit(count)
    columns = [spec.fields[k.name] for k in keys]
    criteria = statement.whereclause
    parts = []
    for branch in branches:
        where = branch if criteria is None else [criteria, *branch]
        child = select(*columns).where(*where).order_by(*order).limit(count).subquery()
        parts.append(select(*child.c))
    merged = union_all(*parts)
    page = merged.order_by(*_order(spec, keys, merged.selected_columns)).limit(count).subquery()
    # The page's rows by primary key, the statement's columns but not its criteria: the
    # page's ids already meet them, and a costly one (`q`) would be evaluated again.
    rows = select(*statement.selected_columns)
    return rows.join(page, spec.fields["id"] == page.c.id).order_by(*order)


@dataclass(frozen=True)
class Filtered:
    """A collection's filtered statement, made by `build`, and the values it takes.

    `key` names the statement's shape (which filters are set, the value of each flag):
    every request of the same shape runs the same statement, built and compiled once, with
    its own `params`. Builders give each value as `bindparam(<filter name>, value)`.
    `key=None`: built for this request only (its conditions hold values, e.g. `q`'s ids).
    """

    key: Hashable | None
    build: Callable[[], Select[Any]]
    params: Mapping[str, Any]


def filtered(collection: str, filters: object, build: Callable[[], Select[Any]]) -> Filtered:
    """The shape and values of a frozen dataclass of filters (None: not set). A `q` is built
    for its request only: its condition holds the ids it matched."""
    values = {
        field.name: getattr(filters, field.name)
        for field in dataclasses.fields(filters)  # type: ignore[arg-type]
    }
    given = {name: value for name, value in values.items() if value is not None}
    params = dict(given)
    for name, value in given.items():
        if isinstance(value, tuple):
            params.update(in_params(name, value))
    if "q" in given:
        return Filtered(None, build, params)
    shape = tuple(
        (n, v) if isinstance(v, bool) else (n, in_size(len(v))) if isinstance(v, tuple) else n
        for n, v in given.items()
    )
    return Filtered((collection, shape), build, params)


class _Statements:
    """The page statements in use, least recently used dropped first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: OrderedDict[Hashable, Select[Any]] = OrderedDict()
        self._lock = threading.Lock()  # streams read pages in worker threads

    def get(self, key: Hashable, make: Callable[[], Select[Any]]) -> Select[Any]:
        with self._lock:
            statement = self._kept.get(key)
            if statement is not None:
                self._kept.move_to_end(key)
                return statement
        statement = make()
        with self._lock:
            self._kept[key] = statement
            if len(self._kept) > self.size:
                self._kept.popitem(last=False)
        return statement


_PAGES = _Statements(1024)


def fetch_page(
    session: Session,
    query: Filtered,
    *,
    spec: SortSpec,
    page: PageParams,
) -> tuple[list[Row[Any]], str | None]:
    keys = parse_sort(page.sort, spec)
    values = decode_cursor(page.cursor, spec, keys) if page.cursor else None
    limit = page.limit
    if query.key is None:
        once = page_statement(query.build(), spec=spec, keys=keys, values=values, limit=limit + 1)
        rows = list(session.connection().execute(once, query.params).all())
    else:
        nulls = None if values is None else tuple(v is None for v in values)
        statement = _PAGES.get(
            (query.key, _sort_signature(spec, keys), nulls),
            lambda: page_statement(
                query.build(), spec=spec, keys=keys, values=values, limit=limit + 1, bind=True
            ),
        )
        params = {**query.params, "page_limit": limit + 1}
        for index, value in enumerate(values or ()):
            params[f"cursor_{index}"] = value
        # Core, not the ORM: the rows are plain columns, nothing for the ORM to do.
        rows = list(read_rows(session, statement, params))
    if len(rows) <= limit:
        return rows, None
    page_rows = rows[:limit]
    return page_rows, encode_cursor(spec, keys, page_rows[-1])


def parse_include(raw: str | None, allowed: Sequence[str]) -> frozenset[str]:
    if not raw:
        return frozenset()
    names = [part.strip() for part in raw.split(",") if part.strip()]
    for name in names:
        if name not in allowed:
            raise InvalidParameter(
                "include", f"unknown expansion {name!r}; allowed: {', '.join(allowed)}"
            )
    return frozenset(names)


def search_condition(session: Session, table: type[SQLModel], q: str) -> ColumnElement[bool]:
    """A collection's `q`: its items with a name, alias or title matching `q` as in
    `GET /v1/search` (case-, accent- and punctuation-insensitive; exact, prefix, substring or
    one or two typos). An `id IN (...)` condition that composes with filters and pages."""
    return matching_condition(session, table, q)


_ID_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")


def get_or_404(session: Session, model: type[T], label: str, item_id: str) -> T:
    """The item as an ORM object, for a write to change; 404 (410 if deleted) if missing."""
    # An id that cannot be a slug cannot exist: answer 404 without asking the database.
    row = session.get(model, item_id) if _ID_RE.fullmatch(item_id) else None
    if row is None:
        _missing(session, model, label, item_id)
    return row


# Bookkeeping no answer shows: the text search reads (app/search) and the revision number
# (curation's If-Match). Each column read costs every row of every page, on PostgreSQL a
# column description per statement too.
_NOT_SHOWN = frozenset({"search_text", "revision"})


@cache
def shown_columns(
    model: type[SQLModel], *, without: frozenset[str] = frozenset()
) -> tuple[Any, ...]:
    """The table's columns that answers are made of (`without` those too), in order; the same
    tuple on every call, so the statements keyed on it are built once."""
    table = model.__table__  # type: ignore[attr-defined]
    return tuple(c for c in table.c if c.name not in _NOT_SHOWN and c.name not in without)


def read_or_404(session: Session, model: type[SQLModel], label: str, item_id: str) -> Row[Any]:
    """The item's columns, for a read (no ORM object to track); 404 (410 if deleted)."""
    row = None
    if _ID_RE.fullmatch(item_id):
        statement = _BY_ID.get(model)
        if statement is None:
            table = model.__table__  # type: ignore[attr-defined]
            statement = _BY_ID[model] = select(*shown_columns(model)).where(
                table.c.id == bindparam("id")
            )
        found = read_rows(session, statement, {"id": item_id})
        row = found[0] if found else None
    if row is None:
        _missing(session, model, label, item_id)
    return row


_BY_ID: dict[type[SQLModel], Select[Any]] = {}


def read_cited_or_404(
    session: Session, model: type[SQLModel], entity_type: str, label: str, item_id: str
) -> tuple[Row[Any], list[dict[str, Any]]]:
    """`read_or_404` with the item's citations, read by the same statement."""
    row: Row[Any] | None = None
    cited: list[dict[str, Any]] = []
    if _ID_RE.fullmatch(item_id):
        row, cited = with_citations(session, shown_columns(model), entity_type, item_id)
    if row is None:
        _missing(session, model, label, item_id)
    return row, cited


def rows_by_ids(session: Session, columns: tuple[Any, ...], ids: Sequence[str]) -> list[Row[Any]]:
    """The rows (these columns of one table) with these ids, in one query: for `include`."""
    if not ids:
        return []
    statements = _BY_IDS.get(columns)
    if statements is None:
        id_column = next(column for column in columns if column.name == "id")
        statements = _BY_IDS[columns] = SizedStatements(
            lambda count: select(*columns).where(in_values(id_column, "ids", count))
        )
    return list(read_rows(session, statements(len(ids)), in_params("ids", ids)))


_BY_IDS: dict[tuple[Any, ...], SizedStatements] = {}


def _missing(session: Session, model: type[SQLModel], label: str, item_id: str) -> NoReturn:
    entity_type = _ENTITY_TYPES.get(getattr(model, "__tablename__", ""))
    if entity_type is not None and _ID_RE.fullmatch(item_id):
        # A deleted item answers 410 Gone with a link to its history.
        raise_if_deleted(session, entity_type, item_id)
    raise NotFound(label, item_id)


_ENTITY_TYPES = {
    "organizations": "organization",
    "ai_models": "model",
    "chips": "chip",
    "chip_support": "chip_support",
    "investments": "investment",
    "documents": "document",
}
