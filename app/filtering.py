"""Small WHERE-clause builders shared by the collection services.

Each takes the filters and a field's name, and binds the field's value as a parameter of
that name, so a statement serves every request with the same filters set
(`app.listing.Filtered`). Only which filters are set, and the flags, shape the statement.
"""

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam


def _bind(column: Any, name: str, value: Any) -> Any:
    # The column's type, not the first value's: 32000000000 is a BIGINT, not an INTEGER.
    return bindparam(name, value, type_=column.type)


def in_size(count: int) -> int:
    """Placeholders for `count` values in an IN: the next power of two, so that a handful of
    statements serve every count."""
    return 1 << (count - 1).bit_length() if count > 1 else 1


def in_values(column: Any, name: str, count: int) -> ColumnElement[bool]:
    """`column IN (:name_0, ..., :name_n)` for up to `count` values (`in_params`).

    Not an `expanding` parameter: that one rewrites the SQL on every execution, a tenth of
    a filtered list's CPU.
    """
    names = [f"{name}_{i}" for i in range(in_size(count))]
    if len(names) == 1:
        return column == bindparam(names[0], type_=column.type)  # type: ignore[no-any-return]
    return column.in_([bindparam(n, type_=column.type) for n in names])  # type: ignore[no-any-return]


def in_params(name: str, values: Sequence[Any]) -> dict[str, Any]:
    """The parameters of `in_values(..., name, len(values))`: the values, the last repeated
    up to the placeholders' count (the same IN)."""
    size = in_size(len(values))
    padded = [*values, *[values[-1]] * (size - len(values))]
    return {f"{name}_{i}": value for i, value in enumerate(padded)}


class SizedStatements:
    """A statement that takes a list of values (`in_values(..., count)`), built once per
    placeholder count by `build(count)`."""

    def __init__(self, build: Callable[[int], Select[Any]]) -> None:
        self._build = build
        self._made: dict[int, Select[Any]] = {}

    def __call__(self, count: int) -> Select[Any]:
        size = in_size(count)
        statement = self._made.get(size)
        if statement is None:
            statement = self._made[size] = self._build(size)
        return statement


def where_in(statement: Select[Any], column: Any, filters: object, name: str) -> Select[Any]:
    """`column IN` the filter's values (a tuple: `app.listing.filtered` binds each)."""
    values = getattr(filters, name)
    if values is None:
        return statement
    return statement.where(in_values(column, name, len(values)))


def where_null(statement: Select[Any], column: Any, filters: object, name: str) -> Select[Any]:
    flag = getattr(filters, name)
    if flag is None:
        return statement
    return statement.where(column.is_(None) if flag else column.is_not(None))


def where_range(
    statement: Select[Any], column: Any, filters: object, low: str | None, high: str | None
) -> Select[Any]:
    if low is not None and getattr(filters, low) is not None:
        statement = statement.where(column >= _bind(column, low, getattr(filters, low)))
    if high is not None and getattr(filters, high) is not None:
        statement = statement.where(column <= _bind(column, high, getattr(filters, high)))
    return statement


def where_equal(statement: Select[Any], column: Any, filters: object, name: str) -> Select[Any]:
    value = getattr(filters, name)
    return statement if value is None else statement.where(column == _bind(column, name, value))
