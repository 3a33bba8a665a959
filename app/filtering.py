"""Small WHERE-clause builders shared by the collection services.

Each takes the filters and a field's name, and binds the field's value as a parameter of
that name, so a statement serves every request with the same filters set
(`app.listing.Filtered`). Only which filters are set, and the flags, shape the statement.
"""

from typing import Any

from sqlalchemy import Select, bindparam


def _bind(column: Any, name: str, value: Any) -> Any:
    # The column's type, not the first value's: 32000000000 is a BIGINT, not an INTEGER.
    return bindparam(name, value, type_=column.type)


def where_in(statement: Select[Any], column: Any, filters: object, name: str) -> Select[Any]:
    values = getattr(filters, name)
    if values is None:
        return statement
    return statement.where(column.in_(bindparam(name, values, type_=column.type, expanding=True)))


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
