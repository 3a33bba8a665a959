"""Engine factory and the per-request session (one transaction per request)."""

from __future__ import annotations

import asyncio
import shlex
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar, cast

import anyio
import anyio.to_thread
import asyncpg
import orjson
from fastapi import Depends, Request
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util import await_, greenlet_spawn
from sqlmodel import Session

from app.cache.version import install_write_hooks
from app.config import Settings
from app.errors import ServiceUnavailable

T = TypeVar("T")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Foreign keys are off in SQLite unless asked for on every connection.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


@dataclass(frozen=True)
class Engines:
    """One pool, two ways in: `writes` announces every commit that wrote (the response
    cache's dataset version), `reads` carries no such hooks (each cost a GET ~20 us of CPU)
    and on PostgreSQL runs in autocommit.

    `loop` (PostgreSQL): a pool of its own on asyncpg's connections, for the reads
    that run on the event loop (`on_the_loop`, `LOOP_READS` at once). With `reads`, the loop
    stood still while the database answered, a quarter to a half of its time under load;
    with `loop` it serves other requests meanwhile. Worker threads (writes, searches,
    streams) keep to the blocking pool.

    A read has nothing to commit, and at READ COMMITTED each statement sees its own snapshot
    inside a transaction or not: BEGIN and ROLLBACK were two of a list's four round trips.
    The pool's connections are in autocommit and `writes` switches a connection to READ
    COMMITTED for the time it holds it: writes are rare, and a switch on every read's
    checkout and checkin cost ~15 us. SQLite's driver begins no transaction for a SELECT.
    """

    writes: Engine
    reads: Engine
    loop: AsyncEngine | None = None

    async def dispose(self) -> None:
        self.writes.dispose()
        if self.loop is not None:
            await self.loop.dispose()


def make_engines(settings: Settings, *, loop: bool = True) -> Engines:
    """The app's engines; `loop`: with the event loop's own (PostgreSQL)."""
    pooled = _pooled_engine(settings)
    postgresql = pooled.dialect.name == "postgresql"
    if postgresql:
        writes = pooled.execution_options(isolation_level="READ COMMITTED")
    else:
        writes = pooled.execution_options()
    # Every writer announces its commits, so no process serves a cached answer they change.
    install_write_hooks(writes)
    if not (postgresql and loop):
        return Engines(writes=writes, reads=pooled)
    # A fixed pool, as many connections as `on_the_loop` lets reads run at once: an overflow
    # connection, opened for a burst and closed when given back, cost a connect per request
    # under load (32 concurrent requests, a pool of 10).
    options = _postgres_options() | {"pool_size": LOOP_READS, "max_overflow": 0}
    url = make_url(settings.database_url).set(drivername="postgresql+asyncpg", query={})
    on_loop = create_async_engine(url, **options)
    connect_args = _asyncpg_connect_args(settings)

    @event.listens_for(on_loop.sync_engine, "do_connect")
    def _connect(dialect: Any, _record: Any, _cargs: Any, _cparams: Any) -> Any:
        return _connect_or_operational_error(dialect, connect_args)

    @event.listens_for(on_loop.sync_engine, "connect")
    def _json_by_orjson(dbapi_connection: Any, _record: Any) -> None:
        # After the dialect's own codecs (its listener comes first): JSON read as text and
        # parsed by orjson itself, where the dialect's reads it as bytes and decodes each in
        # a Python function before its parser (16,000 instructions a model row against 6,000).
        dbapi_connection.run_async(_orjson_codecs)

    _ping_when_idle(on_loop.sync_engine, IDLE_PING_S)
    return Engines(writes=writes, reads=pooled, loop=on_loop)


async def _orjson_codecs(connection: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        # Parameters arrive as JSON text already (SQLAlchemy's bind processor).
        await connection.set_type_codec(
            name, encoder=str, decoder=orjson.loads, schema="pg_catalog", format="text"
        )


def make_engine(settings: Settings) -> Engine:
    """The engine for commands and anything that may write."""
    return make_engines(settings, loop=False).writes


def _pooled_engine(settings: Settings) -> Engine:
    # JSON columns (aliases, states) decode with orjson, several times faster than json's.
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        pool: dict[str, Any] = {}
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            # Connections to a file are cheap: enough for every worker thread and stream.
            pool = {"pool_size": 20, "max_overflow": 20, "pool_timeout": POOL_WAIT_S}
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False},
            json_deserializer=orjson.loads,
            **pool,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(url, **_postgres_options(), connect_args=_psycopg_connect_args(settings))
    _ping_when_idle(engine, IDLE_PING_S)
    return engine


def _postgres_options() -> dict[str, Any]:
    """Both PostgreSQL pools' engine options; each driver's connect arguments are its own."""
    return {
        "json_deserializer": orjson.loads,
        "isolation_level": "AUTOCOMMIT",  # see Engines
        "pool_size": 10,
        "max_overflow": 10,
        "pool_timeout": POOL_WAIT_S,
    }


# Seconds to connect when DATABASE_URL gives no `connect_timeout`.
CONNECT_TIMEOUT_S = 2


def _statement_timeout_ms(settings: Settings) -> str:
    return str(int(settings.statement_timeout_s * 1000))


def _psycopg_connect_args(settings: Settings) -> dict[str, Any]:
    # These replace the URL's own `options` and `connect_timeout`, so they carry them: its
    # settings first, then the statement timeout, which holds (libpq applies them in order).
    query = make_url(settings.database_url).query
    timeout = f"-c statement_timeout={_statement_timeout_ms(settings)}"
    return {
        "connect_timeout": query.get("connect_timeout", CONNECT_TIMEOUT_S),
        "options": f"{query.get('options', '')} {timeout}".strip(),
        # When the network drops packets instead of refusing them, nothing would ever
        # fail: give up on bytes the server has not acknowledged within 1 s, and probe an
        # idle connection (a query in progress) after 5 s.
        "tcp_user_timeout": 1000,
        "keepalives": 1,
        "keepalives_idle": 5,
        "keepalives_interval": 2,
        "keepalives_count": 2,
    }


# libpq's client-side parameters that asyncpg's DSN parser does not know (it would send them
# to the server as settings, which refuses them): read here, or not applicable to asyncpg.
_LIBPQ_ONLY = frozenset(
    {
        "connect_timeout",
        "options",
        "keepalives",
        "keepalives_idle",
        "keepalives_interval",
        "keepalives_count",
        "tcp_user_timeout",
    }
)


def _asyncpg_connect_args(settings: Settings) -> dict[str, Any]:
    """`asyncpg.connect`'s arguments for DATABASE_URL, as libpq reads it for psycopg.

    SQLAlchemy would pass the URL's query to asyncpg as keywords, which it refuses
    (`sslmode`, `application_name`): asyncpg reads them from a DSN. asyncpg has no keepalive
    options: a statement the network stops answering fails on the client's own timeout
    instead, a second after the server's would have cancelled it.
    """
    url = make_url(settings.database_url)
    query = {name: str(value) for name, value in url.query.items()}
    server_settings = _libpq_options(query.get("options", ""))
    server_settings["statement_timeout"] = _statement_timeout_ms(settings)
    kept = {name: value for name, value in query.items() if name not in _LIBPQ_ONLY}
    dsn = url.set(drivername="postgresql", query=kept).render_as_string(hide_password=False)
    # libpq's connect_timeout: whole seconds, 0 for none.
    timeout = float(query.get("connect_timeout", CONNECT_TIMEOUT_S)) or None
    return {
        "dsn": dsn,
        "timeout": timeout,
        "command_timeout": settings.statement_timeout_s + 1,
        "server_settings": server_settings,
    }


def _libpq_options(options: str) -> dict[str, str]:
    """The settings in libpq's `options` (`-c name=value`, `-cname=value`, `--name=value`)."""
    found: dict[str, str] = {}
    words = iter(shlex.split(options))
    for word in words:
        if word == "-c":
            pair = next(words, "")
        elif word.startswith(("-c", "--")):
            pair = word[2:]
        else:
            raise ValueError(f"DATABASE_URL's options: {word!r} is not a `-c name=value` setting")
        name, equals, value = pair.partition("=")
        if not (name and equals):
            raise ValueError(f"DATABASE_URL's options: {pair!r} is not `name=value`")
        found[name.replace("-", "_")] = value
    return found


def _connect_or_operational_error(dialect: Any, connect_args: dict[str, Any]) -> Any:
    # SQLAlchemy leaves an async driver's connect errors as they are (sqlalchemy#11956):
    # a refused or timed-out connect would be a 500, not the OperationalError (503) it is.
    try:
        return dialect.connect(**connect_args)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise dialect.loaded_dbapi.OperationalError(str(exc), exc) from exc


# Seconds a request waits for a connection (or its turn on the loop's pool) before a 503.
POOL_WAIT_S = 2.0

# A connection idle this long is checked before use (the server may have restarted since).
IDLE_PING_S = 1.0


def _ping_when_idle(engine: Engine, idle_s: float) -> None:
    """`pool_pre_ping` for connections idle longer than `idle_s` only.

    Pinging every checkout costs a round trip per request; under load connections are never
    idle, and a connection just used has just proven itself. A failed ping makes the pool
    replace the connection (and every older one) before the request uses it.
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < idle_s:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("the connection failed its ping") from exc
        if not alive:
            raise DisconnectionError("the connection failed its ping")


async def in_worker_thread(
    request: Request, fn: Callable[..., T], *args: Any, patient: bool = False
) -> T:
    """Run a read that may take long (text search, as_of, a stream's next chunk) in a worker
    thread, `SLOW_READ_THREADS` at once.

    Index-backed reads run on the event loop and must never wait for a pool connection: the
    limiter keeps the slow reads to a few connections, the rest stay free. A read that waits
    longer than `SLOW_READ_WAIT_S` for its turn is refused with 503: its client has likely
    given up, and a flood of slow reads must not queue minutes of work. A `patient` read
    (the next chunk of a stream already under way) waits as long as it takes.
    """
    limiter: anyio.CapacityLimiter = request.app.state.slow_reads
    settings: Settings = request.app.state.settings
    try:
        with anyio.fail_after(None if patient else settings.slow_read_wait_s):
            await limiter.acquire()
    except TimeoutError:
        raise ServiceUnavailable(
            "Too many searches are running; try again shortly.", headers={"Retry-After": "1"}
        ) from None
    try:
        return await anyio.to_thread.run_sync(fn, *args)
    finally:
        limiter.release()


# Reads that need a transaction on PostgreSQL: `as_of` reads revisions through a server-side
# cursor, and a search (`q`) sets its similarity threshold for the transaction.
_TRANSACTIONAL_READS = frozenset({"q", "as_of"})


def engine_for_read(request: Request) -> Engine:
    """A GET's engine: autocommit (`Engines`), but see `_TRANSACTIONAL_READS`."""
    state = request.app.state
    transactional = not _TRANSACTIONAL_READS.isdisjoint(request.query_params.keys())
    engine: Engine = state.engine if transactional else state.read_engine
    return engine


class _AutocommitSession(Session):
    """A read's session in autocommit: `connection()` is a pooled connection of its own,
    without the session's transaction bookkeeping (a tenth of a list's CPU), since there is
    no transaction to share; ORM reads (`get`, `exec`) still go through the session."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self._engine = engine
        self._plain: Connection | None = None

    def connection(
        self,
        bind_arguments: Any | None = None,
        execution_options: Any | None = None,
    ) -> Connection:
        if bind_arguments is not None or execution_options is not None:
            return super().connection(bind_arguments, execution_options)
        if self._plain is None:
            self._plain = self._engine.connect()
        return self._plain

    def close(self) -> None:
        if self._plain is not None:
            self._plain.close()
            self._plain = None
        super().close()


def read_session(request: Request) -> Session:
    """A session for a GET: see `engine_for_read`; nothing to commit."""
    engine = engine_for_read(request)
    if engine is request.app.state.read_engine:
        return _AutocommitSession(engine)
    return Session(engine)


def loop_session(request: Request) -> Session | None:
    """A GET's session on the event loop's engine (`Engines.loop`), to be used only inside
    `on_the_loop`; None when there is no such engine or the read needs a transaction."""
    state = request.app.state
    if state.loop_engine is None or engine_for_read(request) is not state.read_engine:
        return None
    return _AutocommitSession(state.loop_engine)


# Reads on the loop's pool at once (its size): the others wait their turn in `on_the_loop`.
LOOP_READS = 10


async def on_the_loop(
    coroutine: Coroutine[Any, Any, T],
    turns: asyncio.Semaphore | None = None,
    *,
    wait_s: float = POOL_WAIT_S,
) -> T:
    """Run `coroutine` so that its blocking calls on a `loop_session` await the database
    instead of blocking the event loop; `turns`: the semaphore it waits on first, at most
    `wait_s` seconds (then the pool's own timeout error: a 503).

    SQLAlchemy's asyncio bridge runs synchronous code in a greenlet whose database calls
    await in the event loop (`greenlet_spawn`, `await_`). The services are synchronous, called
    from async routes: the route's coroutine is stepped inside that greenlet, and each future
    it waits on (a lock, a worker thread, a sleep) is awaited in the event loop the same way.

    Requests take turns first come, first served (asyncio's semaphore), never in the pool:
    there a request given a connection back could be overtaken by newer ones again and
    again (its queue's waiters), a p99 of 400-900 ms under 32 concurrent requests.
    """
    if turns is None:
        return await greenlet_spawn(_step_through, coroutine)
    if not turns.locked():
        # A free turn is taken at once, without waiting: no timer to arm and cancel.
        await turns.acquire()
    else:
        try:
            async with asyncio.timeout(wait_s):
                await turns.acquire()
        except TimeoutError:
            coroutine.close()
            # As the pool answers when no connection comes free in time: 503, try again.
            raise PoolTimeoutError(f"no turn on the event loop's pool within {wait_s} s") from None
    try:
        return await greenlet_spawn(_step_through, coroutine)
    finally:
        turns.release()


def _step_through(coroutine: Coroutine[Any, Any, T]) -> T:
    thrown: BaseException | None = None
    while True:
        try:
            waited = coroutine.send(None) if thrown is None else coroutine.throw(thrown)
        except StopIteration as done:
            return cast(T, done.value)
        thrown = None
        if waited is None:  # a bare `yield` (asyncio.sleep(0)): the loop gets a turn
            waited = asyncio.sleep(0)
        else:
            # As a task does with the future its coroutine yields: it is waited on once more.
            waited._asyncio_future_blocking = False
        try:
            await_(waited)
        except BaseException as exc:  # the future's error, or the task's cancellation
            thrown = exc


_READS = frozenset({"GET", "HEAD"})


async def get_session(request: Request) -> AsyncIterator[Session]:
    """Commit when the request succeeds, roll back when anything raises.

    A read has nothing to commit: see `engine_for_read`; a transaction, if any, ends when
    the session closes.
    """
    if request.method in _READS:
        with read_session(request) as session:
            yield session
        return
    engine = request.app.state.engine
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# Closed as soon as the route returns, before the answer is sent: a connection is never held
# while a slow client reads (reads run on the event loop, which must not wait for the pool).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
