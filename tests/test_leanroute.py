"""The GET routes run their dependency plans (app/leanroute.py) and answer exactly as
FastAPI's own handler answers the same requests, valid or not."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import pytest
from fastapi.routing import APIRoute, request_response
from fastapi.testclient import TestClient
from sqlalchemy.pool import QueuePool

from app.leanroute import LeanRoute
from tests.conftest import read_engines

REQUESTS = [
    "/v1/models?limit=3",
    "/v1/models?developer_id=deepseek&limit=2&sort=-parameters",
    "/v1/models?limit=0",
    "/v1/models?limit=2&sort=nope",
    "/v1/models?limit=2&cursor=garbage",
    "/v1/models?include=nope&fields=nope&limit=nope",
    "/v1/models?parameters_gte=-1&release_date_from=yesterday",
    "/v1/models?q=deepseek&limit=2",
    "/v1/models/deepseek-r1",
    "/v1/models/deepseek-r1?include=developer,nope",
    "/v1/models/deepseek-r1?as_of=soon&include=nope",
    "/v1/models/no-such-model",
    "/v1/models/deepseek-r1?fields=name,nope",
    "/v1/models/deepseek-r1?as_of=&include=",
    "/v1/models/deepseek-r1?include=nope&include=developer",
    "/v1/chips/no-such-chip?as_of=2020-01-01T00:00:00Z",
    "/v1/organizations/deepseek?as_of=2999-01-01T00:00:00Z&unknown=1",
    "/v1/models/deepseek-r1/chip-support?limit=2",
    "/v1/models/no-such-model/chip-support",
    "/v1/models/deepseek-r1/history",
    "/v1/models/deepseek-r1?as_of=not-a-time",
    "/v1/models?as_of=2020-01-01T00:00:00Z",
    "/v1/organizations/deepseek/models?limit=2",
    "/v1/chip-support?relation=nope",
    "/v1/investments?limit=2&format=csv",
    "/v1/documents?limit=1",
    "/v1/search?q=kimi",
    "/v1/search",
    "/v1/search?q=k2&types=nope",
    "/v1/changes?limit=2",
]


def _lean_routes(client: TestClient) -> list[LeanRoute]:
    return [route for route in client.app.routes if getattr(route, "lean", False)]  # type: ignore[attr-defined]


@contextmanager
def fastapi_handlers(routes: list[LeanRoute]) -> Iterator[None]:
    """The routes answered by FastAPI's own request handler meanwhile."""
    saved = [route.app for route in routes]
    for route in routes:
        route.app = request_response(APIRoute.get_route_handler(route))
    try:
        yield
    finally:
        for route, app in zip(routes, saved, strict=True):
            route.app = app


def _answer(client: TestClient, path: str) -> tuple[int, str, Any, dict[str, str]]:
    response = client.get(path)
    kind = response.headers.get("content-type", "")
    body: Any = response.json() if "json" in kind else response.text
    headers = {
        name: response.headers.get(name, "")
        for name in ("etag", "link", "cache-control", "vary", "content-length")
    }
    return response.status_code, kind, body, headers


def test_every_async_read_route_runs_its_plan(uncached: TestClient) -> None:
    """A GET route left to FastAPI (silently, by some new kind of dependency) would lose
    the plan's speed: only the sync routes (run in threads by FastAPI) are."""
    left = sorted(
        route.path
        for route in uncached.app.routes  # type: ignore[attr-defined]
        if isinstance(route, LeanRoute)
        and route.methods == {"GET"}
        and not route.lean
        and inspect.iscoroutinefunction(route.endpoint)
    )
    assert left == []
    assert len(_lean_routes(uncached)) >= 20


@pytest.mark.parametrize("path", REQUESTS)
def test_answers_as_fastapi_does(uncached: TestClient, path: str) -> None:
    lean = _answer(uncached, path)
    with fastapi_handlers(_lean_routes(uncached)):
        reference = _answer(uncached, path)
    assert lean == reference
    assert lean[0] < 500


def test_several_invalid_parameters_are_reported_together(uncached: TestClient) -> None:
    """`include` belongs to a dependency (the view), `as_of` to the route itself."""
    response = uncached.get("/v1/models/deepseek-r1?as_of=soon&include=nope")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    places = {tuple(error["loc"]) for error in response.json()["errors"]}
    assert places == {("query", "as_of"), ("query", "include")}


def test_an_answer_that_is_not_a_response_goes_through_the_response_model() -> None:
    """As FastAPI's handler: validated against `response_model`, undeclared fields dropped,
    the route's status code."""
    from fastapi import APIRouter, FastAPI, Query
    from pydantic import BaseModel

    class Out(BaseModel):
        name: str
        count: int

    router = APIRouter(route_class=LeanRoute)

    @router.get("/things/{name}", response_model=Out, status_code=203)
    async def thing(name: str, count: int = Query(ge=0)) -> Any:
        return {"name": name, "count": count, "secret": "dropped"}

    app = FastAPI()
    app.router.routes.extend(router.routes)
    route = next(r for r in app.routes if isinstance(r, LeanRoute))
    assert route.lean
    with TestClient(app) as client:
        answers = [client.get("/things/a?count=2"), client.get("/things/a?count=-1")]
        with fastapi_handlers([route]):
            references = [client.get("/things/a?count=2"), client.get("/things/a?count=-1")]
    assert answers[0].status_code == 203
    assert answers[0].json() == {"name": "a", "count": 2}
    assert answers[1].status_code == 422
    for answer, reference in zip(answers, references, strict=True):
        assert (answer.status_code, answer.json()) == (reference.status_code, reference.json())


def test_reads_give_their_connections_back(uncached: TestClient) -> None:
    """A read's session hands out a plain connection for Core statements and the ORM its
    own: both are back in the pool once the answer is sent, errors included."""
    pools = [cast(QueuePool, engine.pool) for engine in read_engines(uncached)]
    for path in REQUESTS:
        uncached.get(path)
        assert [pool.checkedout() for pool in pools] == [0] * len(pools), path
