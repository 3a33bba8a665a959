"""Keyset pagination, sorting, `include` and `q` shared by every collection."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from sqlalchemy import ColumnElement, and_, case, false, or_
from sqlmodel import Session, SQLModel
from sqlmodel.sql.expression import SelectOfScalar

from app.errors import InvalidParameter, NotFound
from app.history.service import raise_if_deleted
from app.search.service import matching_condition

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


def encode_cursor(spec: SortSpec, keys: Sequence[SortKey], row: SQLModel) -> str:
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


def _order_and_keyset(
    spec: SortSpec, keys: Sequence[SortKey], values: Sequence[Any] | None
) -> tuple[list[Any], ColumnElement[bool] | None]:
    """ORDER BY terms (nulls last in both directions) and the keyset "after" predicate."""
    # Each nullable column becomes two keys: an is-null flag (ascending) and the value.
    expanded: list[tuple[ColumnElement[Any], bool, Any]] = []
    for index, key in enumerate(keys):
        column = spec.fields[key.name]
        value = values[index] if values is not None else None
        if column.nullable:
            flag = case((column.is_(None), 1), else_=0)
            expanded.append((flag, False, 1 if value is None else 0))
        expanded.append((column, key.descending, value))

    order = [expr.desc() if desc else expr.asc() for expr, desc, _ in expanded]
    if values is None:
        return order, None

    branches: list[ColumnElement[bool]] = []
    equal_so_far: list[ColumnElement[bool]] = []
    for expr, desc, value in expanded:
        if value is None:
            after: ColumnElement[bool] = false()
            equal: ColumnElement[bool] = expr.is_(None)
        else:
            after = expr < value if desc else expr > value
            equal = expr == value
        branches.append(and_(*equal_so_far, after) if equal_so_far else after)
        equal_so_far.append(equal)
    return order, or_(*branches)


def fetch_page(
    session: Session,
    statement: SelectOfScalar[T],
    *,
    spec: SortSpec,
    sort: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[T], str | None]:
    keys = parse_sort(sort, spec)
    values = decode_cursor(cursor, spec, keys) if cursor else None
    order, after = _order_and_keyset(spec, keys, values)
    if after is not None:
        statement = statement.where(after)
    rows = list(session.exec(statement.order_by(*order).limit(limit + 1)).all())
    if len(rows) <= limit:
        return rows, None
    page = rows[:limit]
    return page, encode_cursor(spec, keys, page[-1])


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
    # An id that cannot be a slug cannot exist: answer 404 without asking the database.
    if not _ID_RE.fullmatch(item_id):
        raise NotFound(label, item_id)
    row = session.get(model, item_id)
    if row is None:
        entity_type = _ENTITY_TYPES.get(getattr(model, "__tablename__", ""))
        if entity_type is not None:
            # A deleted item answers 410 Gone with a link to its history.
            raise_if_deleted(session, entity_type, item_id)
        raise NotFound(label, item_id)
    return row


_ENTITY_TYPES = {
    "organizations": "organization",
    "ai_models": "model",
    "chips": "chip",
    "chip_support": "chip_support",
    "investments": "investment",
    "documents": "document",
}
