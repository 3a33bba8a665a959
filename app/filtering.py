"""Small WHERE-clause builders shared by the collection services."""

from typing import Any, TypeVar

from sqlmodel.sql.expression import SelectOfScalar

T = TypeVar("T")


def where_in(
    statement: SelectOfScalar[T], column: Any, values: tuple[Any, ...] | None
) -> SelectOfScalar[T]:
    if values is None:
        return statement
    return statement.where(column == values[0] if len(values) == 1 else column.in_(values))


def where_null(statement: SelectOfScalar[T], column: Any, flag: bool | None) -> SelectOfScalar[T]:
    if flag is None:
        return statement
    return statement.where(column.is_(None) if flag else column.is_not(None))


def where_range(
    statement: SelectOfScalar[T], column: Any, low: Any | None, high: Any | None
) -> SelectOfScalar[T]:
    if low is not None:
        statement = statement.where(column >= low)
    if high is not None:
        statement = statement.where(column <= high)
    return statement


def where_equal(statement: SelectOfScalar[T], column: Any, value: Any | None) -> SelectOfScalar[T]:
    return statement if value is None else statement.where(column == value)
