"""Reads on the event loop: a coroutine stepped through SQLAlchemy's greenlet bridge behaves
as it would as a task, and on PostgreSQL its database waits leave the loop free."""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import anyio
import anyio.to_thread
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlmodel import Session

from app import reads
from app.config import Settings
from app.db import LOOP_READS, make_engines, on_the_loop
from app.main import create_app
from tests.conftest import statements_sent

WHO = contextvars.ContextVar("who", default="nobody")


def test_a_stepped_coroutine_waits_returns_and_raises_as_a_task_would() -> None:
    async def work(event: asyncio.Event) -> str:
        await asyncio.sleep(0)  # a bare yield
        await asyncio.sleep(0.01)
        await event.wait()  # set by another task meanwhile
        in_thread = await anyio.to_thread.run_sync(lambda: 40 + 2)
        try:
            await anyio.to_thread.run_sync(lambda: 1 / 0)
        except ZeroDivisionError:
            caught = "caught"
        return f"{WHO.get()} {in_thread} {caught}"

    async def failing() -> None:
        await asyncio.sleep(0)
        raise LookupError("from inside")

    async def main() -> tuple[str, BaseException | None]:
        WHO.set("request")
        event = asyncio.Event()
        asyncio.get_running_loop().call_later(0.02, event.set)
        answer = await on_the_loop(work(event))
        try:
            await on_the_loop(failing())
        except LookupError as exc:
            return answer, exc
        return answer, None

    answer, error = asyncio.run(main())
    assert answer == "request 42 caught"
    assert isinstance(error, LookupError)
    assert str(error) == "from inside"


def test_a_stepped_coroutine_is_cancelled_with_its_task_and_cleans_up() -> None:
    cleaned: list[str] = []

    async def forever() -> None:
        try:
            await asyncio.sleep(60)
        finally:
            cleaned.append("finally")

    async def main() -> bool:
        task = asyncio.create_task(on_the_loop(forever()))
        await asyncio.sleep(0.05)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return True
        return False

    assert asyncio.run(main())
    assert cleaned == ["finally"]


def test_reads_take_their_turns_first_come_first_served() -> None:
    seen: list[str] = []

    async def read(name: str) -> None:
        seen.append(f"{name} in")
        await asyncio.sleep(0.01)
        seen.append(f"{name} out")

    async def main() -> None:
        turns = asyncio.Semaphore(2)
        await asyncio.gather(*(on_the_loop(read(name), turns) for name in "abcde"))

    asyncio.run(main())
    entered = [event.split()[0] for event in seen if event.endswith(" in")]
    assert entered == list("abcde")
    # Never more than two at once.
    inside = 0
    for event in seen:
        inside += 1 if event.endswith(" in") else -1
        assert 0 <= inside <= 2, seen


def test_a_read_that_waits_too_long_for_its_turn_gets_the_pools_timeout() -> None:
    started: list[str] = []

    async def read(name: str) -> str:
        started.append(name)
        await asyncio.sleep(0.3)
        return name

    async def main() -> tuple[str, BaseException]:
        turns = asyncio.Semaphore(1)
        first = asyncio.create_task(on_the_loop(read("first"), turns))
        await asyncio.sleep(0.01)
        try:
            await on_the_loop(read("second"), turns, wait_s=0.05)
        except Exception as exc:
            return await first, exc
        raise AssertionError("the second read ran")

    first, error = asyncio.run(main())
    assert first == "first"
    assert started == ["first"]
    assert isinstance(error, PoolTimeoutError)


def test_a_turn_given_up_is_refused_as_a_503(seeded_url: str) -> None:
    app = create_app(Settings(database_url=seeded_url, response_cache_enabled=False))
    with TestClient(app) as client:
        if client.app.state.loop_engine is None:  # type: ignore[attr-defined]
            pytest.skip("the event loop's own engine is PostgreSQL's")
        turns: asyncio.Semaphore = client.app.state.loop_turns  # type: ignore[attr-defined]
        portal = client.portal  # the app's event loop
        assert portal is not None
        for _ in range(LOOP_READS):  # every turn taken, none given back
            portal.call(turns.acquire)
        try:
            started = time.monotonic()
            response = client.get("/v1/models?limit=1")
        finally:
            for _ in range(LOOP_READS):
                portal.call(_release, turns)
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "2"
        assert response.headers["content-type"].startswith("application/problem+json")
        assert time.monotonic() - started >= 1.5
        assert client.get("/v1/models?limit=1").status_code == 200


async def _release(turns: asyncio.Semaphore) -> None:
    turns.release()


def test_an_anyio_timeout_inside_fires_as_it_would_outside() -> None:
    async def slow() -> str:
        try:
            with anyio.fail_after(0.05):
                await asyncio.sleep(60)
        except TimeoutError:
            return "timed out"
        return "slept"

    assert asyncio.run(on_the_loop(slow())) == "timed out"


@pytest.fixture
def postgresql_url(seeded_url: str, backend: str) -> str:
    if backend != "postgresql":
        pytest.skip("the event loop's own engine is PostgreSQL's")
    return seeded_url


def test_the_loop_serves_others_while_a_read_waits_for_postgresql(postgresql_url: str) -> None:
    engines = make_engines(Settings(database_url=postgresql_url))
    assert engines.loop is not None
    loop_engine = engines.loop.sync_engine

    async def read_slowly() -> float:
        with Session(loop_engine) as session:
            session.connection().execute(text("SELECT pg_sleep(0.3)"))
        return time.monotonic()

    async def main() -> tuple[float, float, list[float]]:
        ticks: list[float] = []

        async def tick() -> None:
            for _ in range(40):
                ticks.append(time.monotonic())
                await asyncio.sleep(0.01)

        started = time.monotonic()
        ended, _ = await asyncio.gather(on_the_loop(read_slowly()), tick())
        await engines.dispose()
        return started, ended, ticks

    started, ended, ticks = asyncio.run(main())
    # A blocking read would have held the loop for the whole 0.3 s: no tick in between.
    during = [t for t in ticks if started + 0.05 < t < ended - 0.05]
    assert len(during) >= 5, (ended - started, len(ticks))


@pytest.fixture
def client_on_postgresql(postgresql_url: str) -> Iterator[TestClient]:
    settings = Settings(database_url=postgresql_url, response_cache_enabled=False)
    with TestClient(create_app(settings)) as client:
        yield client


def test_lists_and_items_read_through_the_loop_engine(client_on_postgresql: TestClient) -> None:
    state = client_on_postgresql.app.state  # type: ignore[attr-defined]
    for path in ("/v1/models?limit=3", "/v1/models/kimi-k2", "/v1/chips?include=vendor"):
        with (
            statements_sent(state.loop_engine) as on_loop,
            statements_sent(state.read_engine) as blocking,
        ):
            response = client_on_postgresql.get(path)
        assert response.status_code == 200, response.text
        assert on_loop, path
        assert not blocking, path
    # A search needs a transaction: the blocking pool, in a worker thread.
    with statements_sent(state.loop_engine) as on_loop:
        assert client_on_postgresql.get("/v1/models?q=kimi").status_code == 200
    assert not on_loop


# Lists with filters, sorts, cursors and nulls, items, and relations by `include`.
KEPT_READS = (
    "/v1/models?limit=3",
    "/v1/models?limit=2&sort=-parameters,release_date&open_weights=true",
    "/v1/models?developer_id=deepseek,moonshot-ai,meta&release_date_null=true&limit=2",
    "/v1/models?include=developer,citations,documents&limit=4",
    "/v1/models/kimi-k2",
    "/v1/models/deepseek-r1?include=developer",
    "/v1/investments?include=investors,recipient&limit=5&sort=-amount_usd_max",
    "/v1/chip-support?include=chip,model&limit=5",
    "/v1/chips?include=vendor",
    "/v1/organizations?country=CN&limit=3",
)


def test_kept_statements_read_by_asyncpg_answer_as_sqlalchemy_does(
    client_on_postgresql: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`read_rows` fetches the rows of kept statements through asyncpg itself: every answer,
    with the next pages' too, is the one SQLAlchemy's own execution of them gives."""
    planned: list[object] = []
    planner = reads._plan

    def recording(statement: Any, dialect: Any) -> Any:
        plan = planner(statement, dialect)
        planned.append(plan)
        return plan

    def answers() -> list[Any]:
        found = []
        for path in KEPT_READS:
            body = client_on_postgresql.get(path).json()
            found.append(body)
            cursor = body.get("next_cursor")
            if cursor:
                page = client_on_postgresql.get(f"{path}&cursor={quote(cursor)}")
                found.append(page.json())
        return found

    monkeypatch.setattr(reads, "_plan", recording)
    by_asyncpg = answers()
    assert planned
    assert None not in planned
    monkeypatch.setattr(reads, "_plan", lambda statement, dialect: None)
    assert answers() == by_asyncpg
    empty = [body for body in by_asyncpg if not (body.get("data") or "id" in body)]
    assert not empty


def _pool_settings(url: str, names: tuple[str, ...]) -> tuple[dict[str, str], dict[str, str]]:
    """The server's values of `names` on a connection of each pool: (the loop's, blocking)."""
    engines = make_engines(Settings(database_url=url, statement_timeout_s=7))
    assert engines.loop is not None
    loop_engine = engines.loop.sync_engine
    with engines.writes.connect() as conn:
        blocking = {name: conn.execute(text(f"SHOW {name}")).scalar_one() for name in names}

    async def read() -> dict[str, str]:
        with Session(loop_engine) as session:
            conn = session.connection()
            return {name: conn.execute(text(f"SHOW {name}")).scalar_one() for name in names}

    async def main() -> dict[str, str]:
        try:
            return await on_the_loop(read())
        finally:
            await engines.dispose()

    return asyncio.run(main()), blocking


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("sslmode=disable", {}),
        ("connect_timeout=3", {}),
        ("application_name=aifacts-test", {"application_name": "aifacts-test"}),
        (
            "options=-c%20work_mem%3D8MB%20--search-path%3Dpublic",
            {"work_mem": "8MB", "search_path": "public"},
        ),
        # The statement timeout stays STATEMENT_TIMEOUT_S's.
        ("options=-cstatement_timeout%3D100", {}),
    ],
)
def test_both_pools_read_database_url_as_libpq_does(
    postgresql_url: str, query: str, expected: dict[str, str]
) -> None:
    """The URL's parameters reach asyncpg as libpq (psycopg) reads them: a parameter asyncpg
    does not take as a keyword made every read on the loop fail; and the blocking pool's
    statement timeout no longer replaces the URL's other `options`."""
    url = postgresql_url + ("&" if "?" in postgresql_url else "?") + query
    names = ("statement_timeout", *expected)
    wanted = {"statement_timeout": "7s", **expected}
    assert _pool_settings(url, names) == (wanted, wanted)
    settings = Settings(database_url=url, response_cache_enabled=False)
    with TestClient(create_app(settings)) as client:
        assert client.get("/v1/models?limit=1").status_code == 200


def test_options_that_are_not_settings_are_refused_at_start(postgresql_url: str) -> None:
    with pytest.raises(ValueError, match="not a `-c name=value` setting"):
        make_engines(Settings(database_url=postgresql_url + "?options=-x%201"))
