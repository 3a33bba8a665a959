"""A kept statement's rows, on asyncpg's own protocol when the read runs on the event loop.

The reads that answer most requests (a page, an item, a page's relations) run statements
built once and kept (`app.listing`'s `_PAGES`, `SizedStatements`, ...). Through SQLAlchemy each
execution still looks its compiled form up by a cache key made from the whole statement tree,
makes an execution context, a cursor adapter and a result with its row processors: 280 us of CPU
a statement against 170 us for `asyncpg.Connection.fetch` of the same SQL (8 at once, 3,200
times, a pool checkout each). A kept statement is compiled here once, and its rows are
fetched by asyncpg itself, its parameters passed through SQLAlchemy's bind processors, when
none of its columns' types has a result processor (asyncpg's codecs, set up by SQLAlchemy's
dialect on each connection, decode JSON already). Every other statement, connection or driver
goes through SQLAlchemy as before. It leans on the compiled statement's and the connection's
internals (the locked SQLAlchemy's); `tests/test_loop_reads.py` compares the answers with
SQLAlchemy's own execution, `tests/test_ops_*` its errors.
"""

from __future__ import annotations

import keyword
from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NoReturn, cast

from sqlalchemy import Connection, Row, Select
from sqlalchemy.engine import Dialect
from sqlalchemy.util import await_
from sqlmodel import Session


@dataclass(frozen=True)
class _Plan:
    sql: str
    names: tuple[str, ...]  # the parameter of each placeholder, $1 first
    processors: tuple[Callable[[Any], Any] | None, ...]  # SQLAlchemy's, for each (Boolean's)
    bound: Mapping[str, Any]  # the values the statement itself holds (a literal LIMIT's)
    make: Callable[[Iterable[Any]], tuple[Any, ...]]  # a row: a named tuple of column keys


# By identity (a Select compares and hashes as an object does), as many as the kept
# statements; the least recently used dropped first, as `app.listing` drops its own.
@lru_cache(maxsize=4096)
def _plan(statement: Select[Any], dialect: Dialect) -> _Plan | None:
    """How asyncpg runs `statement`; None: SQLAlchemy runs it."""
    compiled: Any = statement.compile(dialect=dialect)
    names = compiled.positiontup
    if names is None or compiled.post_compile_params:
        return None
    for column in compiled._result_columns:
        impl = column.type.dialect_impl(dialect)
        if impl.result_processor(dialect, None) is not None:
            return None
    keys = [column.keyname for column in compiled._result_columns]
    valid = all(k.isidentifier() and not keyword.iskeyword(k) and k[0] != "_" for k in keys)
    if not keys or not valid or len(set(keys)) != len(keys):
        return None
    bound = {
        name: bind.value
        for name, bind in compiled.binds.items()
        if not bind.required and bind.callable is None
    }
    row = namedtuple("Row", keys)  # type: ignore[misc]
    processors = tuple(compiled._bind_processors.get(name) for name in names)
    return _Plan(compiled.string, tuple(names), processors, bound, row._make)


def read_rows(
    session: Session, statement: Select[Any], params: Mapping[str, Any]
) -> Sequence[Row[Any]]:
    """All rows of a kept `statement` (one built once and used again) with these `params`.

    The rows are tuples with the statement's column keys as attributes and `_fields`, as
    SQLAlchemy's are, whichever path reads them.
    """
    connection = session.connection()
    driver = connection.connection.driver_connection
    if connection.dialect.driver != "asyncpg" or driver is None:
        return connection.execute(statement, params).all()
    plan = _plan(statement, connection.dialect)
    if plan is None:
        return connection.execute(statement, params).all()
    given = {**plan.bound, **params}
    args = [
        given[name] if process is None else process(given[name])
        for name, process in zip(plan.names, plan.processors, strict=True)
    ]
    # The statement is announced as SQLAlchemy announces it (tracing, the tests' counts of
    # round trips), without the cursor and execution context that this path never makes.
    announce = connection._has_events or connection.engine._has_events
    if announce:
        connection.dispatch.before_cursor_execute(connection, None, plan.sql, args, None, False)
    try:
        records = await_(driver.fetch(plan.sql, *args))
    except BaseException as error:
        _raise_as_sqlalchemy_does(connection, error, plan.sql, args)
    if announce:
        connection.dispatch.after_cursor_execute(connection, None, plan.sql, args, None, False)
    make = plan.make
    # Named tuples answer to what the callers ask of a Row: position, attribute, `_fields`.
    return cast(list[Row[Any]], [make(record) for record in records])


def _raise_as_sqlalchemy_does(
    connection: Connection, error: BaseException, sql: str, args: list[Any]
) -> NoReturn:
    """The error a `Connection.execute` of the same statement raises: asyncpg's own
    translated to the DBAPI's (SQLSTATE kept), then wrapped, and the connection invalidated
    when it is lost or the read was interrupted (a cancelled request)."""
    adapted: Any = connection.connection.dbapi_connection
    try:
        if isinstance(error, Exception):
            adapted._handle_exception(error)
        raise error
    except BaseException as translated:
        connection._handle_dbapi_exception(translated, sql, tuple(args), None, None)
